"""Conference with PIN and moderator, fax receive, answering machine message, lists, IVR menus."""

from __future__ import annotations

from tests.routing.pbx import Call, assert_golden, make_tenant, sid

ROOMS = {"board": {"pin": "1234", "moderator_pin": "9999", "wait_for_moderator": True},
         "open": {}}


def _conference(services, room: str = "board", **children):  # type: ignore[no-untyped-def]
    plan = {"root": {"id": "conf", "action": "conference", "data": {"room": room}, "children": children}}
    return make_tenant(services, "acme", plan, conferences=ROOMS)


def test_conference_asks_for_the_pin(services) -> None:  # type: ignore[no-untyped-def]
    assert_golden("conference_pin_prompt", Call(_conference(services), sid(1)).start())


def test_participant_pin_joins_and_waits_for_the_moderator(services) -> None:  # type: ignore[no-untyped-def]
    call = Call(_conference(services), sid(1))
    call.start()
    assert_golden("conference_participant", call.press("1234"))


def test_moderator_pin_starts_and_ends_the_conference(services) -> None:  # type: ignore[no-untyped-def]
    call = Call(_conference(services), sid(1))
    call.start()
    assert_golden("conference_moderator", call.press("9999"))
    step = [e for e in call.events() if e.event_type == "StepDecided"][-1]
    assert step.data["inputs"] == {"room": "board", "role": "moderator"}


def test_wrong_pin_is_asked_again_then_the_caller_is_turned_away(services) -> None:  # type: ignore[no-untyped-def]
    call = Call(_conference(services), sid(1))
    call.start()
    again = call.press("0000")
    assert "That PIN is not correct." in again and "<Gather" in again
    call.press("1111")
    bye = call.press("2222")
    assert "<Gather" not in bye and bye.endswith("<Hangup/></Response>")
    assert all("0000" not in str(e.data) for e in call.events() if e.event_type == "StepDecided")


def test_room_without_pin_joins_at_once(services) -> None:  # type: ignore[no-untyped-def]
    body = Call(_conference(services, room="open"), sid(1)).start()
    assert body.endswith("<Response><Dial timeout=\"20\"><Conference>acme-open</Conference></Dial></Response>")


def test_fax_receive_hands_the_call_to_the_fax_pipeline(services) -> None:  # type: ignore[no-untyped-def]
    plan = {"root": {"id": "fax", "action": "fax_receive", "data": {}}}
    call = Call(make_tenant(services, "acme", plan), sid(1))
    assert_golden("fax_receive", call.start())
    requested = [e for e in call.events() if e.event_type == "FaxReceiveRequested"]
    assert len(requested) == 1 and requested[0].data["media_type"] == "application/pdf"
    done = call.reply(FaxStatus="received", NumPages="3", MediaUrl="https://gw/fax/FX1.pdf")
    assert done.endswith("<Response><Hangup/></Response>")
    last = [e for e in call.events() if e.event_type == "StepDecided"][-1]
    assert last.data["inputs"]["NumPages"] == "3" and last.data["branch"] == "received"


def test_answering_machine_message_plays_and_hangs_up_without_recording(services) -> None:  # type: ignore[no-untyped-def]
    plan = {"root": {"id": "msg", "action": "answer_message",
                     "data": {"url": "https://cdn.example.com/closed.mp3", "text": "Спасибо за звонок.",
                              "language": "ru-RU"}}}
    body = Call(make_tenant(services, "acme", plan), sid(1)).start()
    assert_golden("answer_message", body)
    assert "<Record" not in body


LISTS_PLAN = {"root": {"id": "screen", "action": "list_check", "children": {
    "blocked": {"id": "blocked", "action": "reject", "data": {"reason": "busy"}},
    "priority": {"id": "vip", "action": "ring_extension", "data": {"extension": "100"}},
    "allowed": "menu",
    "_": {"id": "menu", "action": "say", "data": {"text": "Welcome."}}}}}
LISTS = {"blacklist": ["+15550009999", "+15550004444"],
         "whitelist": ["+15550004444", {"number": "+15550005555", "priority": True}]}


def test_blacklisted_caller_gets_busy(services) -> None:  # type: ignore[no-untyped-def]
    gateway = make_tenant(services, "acme", LISTS_PLAN, lists=LISTS)
    assert_golden("blacklist_busy", Call(gateway, sid(1), From="+15550009999").start())


def test_white_list_is_never_blocked_even_when_also_black_listed(services) -> None:  # type: ignore[no-untyped-def]
    gateway = make_tenant(services, "acme", LISTS_PLAN, lists=LISTS)
    assert "Welcome." in Call(gateway, sid(1), From="+15550004444").start()


def test_white_list_priority_entry_takes_the_priority_branch(services) -> None:  # type: ignore[no-untyped-def]
    gateway = make_tenant(services, "acme", LISTS_PLAN, lists=LISTS)
    assert ">sip:100@demo.sip.vpbx.local</Sip>" in Call(gateway, sid(1), From="+15550005555").start()


MENUS = {"root": {"id": "main", "action": "ivr_menu",
                  "data": {"text": "Для продаж нажмите 1, для сервиса нажмите 2.", "timeout": 8, "retries": 2,
                           "language": "ru-RU"},
                  "children": {
                      "1": {"id": "sales", "action": "say", "data": {"text": "Продажи."}},
                      "2": {"id": "service", "action": "ivr_menu",
                            "data": {"text": "Press 1 for repairs, star to go back.", "timeout": 3, "retries": 0,
                                     "invalid_text": "No such option."},
                            "children": {"1": {"id": "repairs", "action": "say", "data": {"text": "Repairs."}},
                                         "*": "main",
                                         "timeout": {"id": "svc-op", "action": "say",
                                                     "data": {"text": "Operator."}}}},
                      "fallback": {"id": "op", "action": "say", "data": {"text": "Оператор."}}}}}


def test_menu_speaks_the_tenant_language_with_its_own_timeout(services) -> None:  # type: ignore[no-untyped-def]
    gateway = make_tenant(services, "acme", MENUS, language="ru-RU")
    assert_golden("menu_ru", Call(gateway, sid(1)).start())


def test_invalid_key_is_announced_in_the_menu_language(services) -> None:  # type: ignore[no-untyped-def]
    gateway = make_tenant(services, "acme", MENUS, language="ru-RU")
    call = Call(gateway, sid(1))
    call.start()
    assert_golden("menu_ru_invalid", call.press("7"))


def test_second_level_menu_has_its_own_timeout_and_goes_back_with_star(services) -> None:  # type: ignore[no-untyped-def]
    gateway = make_tenant(services, "acme", MENUS)
    call = Call(gateway, sid(1))
    call.start()
    sub = call.press("2")
    assert_golden("menu_second_level", sub)
    back = call.press("*")
    assert "Для продаж нажмите 1" in back


def test_second_level_menu_no_input_takes_its_timeout_branch(services) -> None:  # type: ignore[no-untyped-def]
    gateway = make_tenant(services, "acme", MENUS)
    call = Call(gateway, sid(1))
    call.start()
    call.press("2")
    assert "Operator." in call.reply()


def test_retries_then_fallback_after_invalid_input(services) -> None:  # type: ignore[no-untyped-def]
    gateway = make_tenant(services, "acme", MENUS)
    call = Call(gateway, sid(1))
    call.start()
    call.press("9")
    call.press("9")
    assert "Оператор." in call.press("9")


def test_system_prompts_follow_the_tenant_language(services) -> None:  # type: ignore[no-untyped-def]
    gateway = make_tenant(services, "acme", {"root": {"id": "conf", "action": "conference", "data": {"room": "board"}}},
                          conferences=ROOMS, language="ru-RU")
    call = Call(gateway, sid(1))
    assert '<Say language="ru-RU">Введите PIN-код конференции и нажмите решётку.</Say>' in call.start()
    assert '<Say language="ru-RU">Неверный PIN-код.</Say>' in call.press("5")


def test_voicemail_plays_the_boxs_own_recorded_greeting_and_needs_no_pin(services) -> None:  # type: ignore[no-untyped-def]
    boxes = {"101": {"pin": "hashed", "greeting_url": "https://cdn.example.com/sam.mp3"}}
    plan = {"root": {"id": "vm", "action": "voicemail", "data": {"extension": "101", "max_length": 60}}}
    call = Call(make_tenant(services, "acme", plan, voicemail_boxes=boxes), sid(1))
    assert_golden("voicemail_box_greeting", call.start())
    done = call.reply(RecordingUrl="https://gw/rec/RE7", RecordingDuration="12", RecordingSid="RE7")
    assert done.endswith("<Hangup/></Response>")
    left = next(e for e in call.events() if e.event_type == "VoicemailLeft")
    assert left.data["box"] == "101" and left.data["duration"] == 12


def test_voicemail_hang_up_before_speaking_leaves_no_message(services) -> None:  # type: ignore[no-untyped-def]
    plan = {"root": {"id": "vm", "action": "voicemail", "data": {"box": "100"}}}
    call = Call(make_tenant(services, "acme", plan), sid(1))
    call.start()
    call.reply(RecordingUrl="https://gw/rec/RE8", RecordingDuration="0")
    assert not any(e.event_type == "VoicemailLeft" for e in call.events())
