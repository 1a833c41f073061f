"""System prompts the caller hears, per language (``<Say language>``). Tenants override them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.instructions import Say

PROMPTS: dict[str, dict[str, str]] = {
    "en": {
        "invalid": "Sorry, that is not a valid choice.",
        "voicemail": "Nobody is available to take your call. Please leave a message after the tone.",
        "voicemail_thanks": "Thank you. Your message has been recorded. Goodbye.",
        "not_in_service": "The number you have called is not in service.",
        "call_barred": "Your phone is not allowed to call this number.",
        "mailbox_number": "Please enter your mailbox number, then press pound.",
        "mailbox_unknown": "There is no such mailbox.",
        "mailbox_pin": "Please enter your PIN, then press pound.",
        "mailbox_wrong_pin": "That PIN is not correct.",
        "mailbox_locked": "This mailbox is locked after too many wrong PINs. Please try again later. Goodbye.",
        "mailbox_no_pin": "This mailbox has no PIN and cannot be opened from this phone. Goodbye.",
        "mailbox_none": "You have no mailbox. Goodbye.",
        "mailbox_summary": "You have {new} new and {saved} saved messages.",
        "mailbox_empty": "You have no messages. Goodbye.",
        "mailbox_end": "There are no more messages. Goodbye.",
        "message_intro": "Message {n}, from {caller}, {when}.",
        "message_options": "Press 1 to hear it again, 2 for the next message, 3 to delete it.",
        "message_deleted": "Message deleted.",
        "extension_caller": "extension {ext}",
        "error": "We are sorry, we cannot take your call right now. Goodbye.",
        "goodbye": "Goodbye.",
        "closed": "We are closed right now. Please call again during business hours.",
        "holiday": "We are closed for the holiday. Please call again on a working day.",
        "conference_pin": "Please enter the conference PIN, then press the pound key.",
        "conference_wrong_pin": "That PIN is not correct.",
        "transferring": "Please hold while we transfer your call.",
        "hold": "Please hold.",
        "pickup_nothing": "There is no ringing call to pick up.",
        "unavailable": "The person you are calling is not available.",
        "transfer_offer": "A call from {caller} is being transferred to you. Press 1 to accept, any other key to decline.",
        "transfer_gone": "The caller has hung up.",
    },
    "ru": {
        "invalid": "Извините, такого варианта нет.",
        "voicemail": "Сейчас никто не может ответить. Оставьте сообщение после сигнала.",
        "voicemail_thanks": "Спасибо, ваше сообщение записано. До свидания.",
        "not_in_service": "Набранный вами номер не обслуживается.",
        "call_barred": "С вашего телефона нельзя звонить на этот номер.",
        "mailbox_number": "Введите номер голосового ящика и нажмите решётку.",
        "mailbox_unknown": "Такого ящика нет.",
        "mailbox_pin": "Введите PIN-код и нажмите решётку.",
        "mailbox_wrong_pin": "Неверный PIN-код.",
        "mailbox_locked": "Ящик заблокирован после нескольких неверных PIN-кодов. Попробуйте позже. До свидания.",
        "mailbox_no_pin": "У этого ящика нет PIN-кода, и его нельзя открыть с этого телефона. До свидания.",
        "mailbox_none": "У вас нет голосового ящика. До свидания.",
        "mailbox_summary": "Новых сообщений: {new}, сохранённых: {saved}.",
        "mailbox_empty": "У вас нет сообщений. До свидания.",
        "mailbox_end": "Больше сообщений нет. До свидания.",
        "message_intro": "Сообщение {n}, от {caller}, {when}.",
        "message_options": "Нажмите 1, чтобы прослушать ещё раз, 2 — следующее сообщение, 3 — удалить.",
        "message_deleted": "Сообщение удалено.",
        "extension_caller": "внутреннего номера {ext}",
        "error": "Извините, сейчас мы не можем принять ваш звонок. До свидания.",
        "goodbye": "До свидания.",
        "closed": "Сейчас мы не работаем. Пожалуйста, позвоните в рабочее время.",
        "holiday": "Сегодня праздничный день, мы не работаем. Позвоните, пожалуйста, в рабочий день.",
        "conference_pin": "Введите PIN-код конференции и нажмите решётку.",
        "conference_wrong_pin": "Неверный PIN-код.",
        "transferring": "Пожалуйста, подождите, мы переводим ваш звонок.",
        "hold": "Пожалуйста, оставайтесь на линии.",
        "pickup_nothing": "Нет звонка, который можно перехватить.",
        "unavailable": "Абонент сейчас недоступен.",
        "transfer_offer": "Вам переводят звонок от {caller}. Нажмите 1, чтобы принять, или другую клавишу, чтобы отказаться.",
        "transfer_gone": "Звонящий уже положил трубку.",
    },
}

LANGUAGE_TAGS = {"en": "en-US", "ru": "ru-RU"}


def say(key: str, language: str, overrides: Mapping[str, Any] | None = None) -> Say:
    """The prompt ``key`` in ``language`` (a tag like ``ru-RU`` or ``ru``), English if unknown."""
    short = language.split("-")[0].lower()
    text = (overrides or {}).get(key) or PROMPTS.get(short, PROMPTS["en"]).get(key) or PROMPTS["en"][key]
    tag = language if "-" in language else LANGUAGE_TAGS.get(short, "en-US")
    return Say(text=str(text), language=tag)
