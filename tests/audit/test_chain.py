"""The hash chain's anchors say where a long log was altered."""

from __future__ import annotations

from domain.audit.chain import ANCHOR_EVERY, GENESIS, link, verify


def chain_of(payloads: list[bytes]) -> tuple[dict[int, str], tuple[int, str]]:
    h, anchors = GENESIS, {}
    for n, p in enumerate(payloads, start=1):
        h = link(h, p)
        if n % ANCHOR_EVERY == 0:
            anchors[n] = h
    return anchors, (len(payloads), h)


def test_an_edit_is_located_between_two_anchors() -> None:
    payloads = [f"event {i}".encode() for i in range(1, 3 * ANCHOR_EVERY + 11)]
    anchors, head = chain_of(payloads)
    assert verify(payloads, anchors, head).ok
    edited = list(payloads)
    edited[ANCHOR_EVERY + 5] = b"event forged"  # the 1030th event
    verdict = verify(edited, anchors, head)
    assert not verdict.ok and verdict.first_bad_event == ANCHOR_EVERY + 1
    assert f"between event {ANCHOR_EVERY + 1} and event {2 * ANCHOR_EVERY}" in verdict.message


def test_events_appended_after_the_head_do_not_break_the_chain() -> None:
    payloads = [f"event {i}".encode() for i in range(1, 50)]
    anchors, head = chain_of(payloads)
    assert verify([*payloads, b"a newer event"], anchors, head).ok
