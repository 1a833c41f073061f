"""Managers' figures through the API, checked against the scripted day worked out by hand."""

from __future__ import annotations

import csv
import io

from tests.projections.conftest import B, C, scripted_day
from tests.projections.scenario import Calls, sid


def test_per_employee_figures_match_the_scripted_day(api, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    # given the scripted day
    scripted_day(Calls(gateway, clock))
    # when a manager asks for that day (local date in New York)
    resp = api.get("/stats/employees?from=2026-11-24&to=2026-11-24")
    # then each extension's figures are the hand-computed ones
    assert resp.status_code == 200
    e = resp.json_body["employees"]
    assert {k: e["100"][k] for k in ("incoming_answered", "incoming_missed", "ring_seconds", "talk_seconds",
                                     "talk_average")} == {"incoming_answered": 1, "incoming_missed": 1,
                                                          "ring_seconds": 26.0, "talk_seconds": 40.0,
                                                          "talk_average": 40.0}
    assert {k: e["103"][k] for k in ("incoming_answered", "incoming_missed", "ring_seconds", "talk_seconds")} == {
        "incoming_answered": 1, "incoming_missed": 1, "ring_seconds": 13.0, "talk_seconds": 95.0}
    assert (e["102"]["outgoing_attempted"], e["102"]["outgoing_answered"], e["102"]["talk_seconds"]) == (1, 1, 30.0)
    assert (e["101"]["outgoing_attempted"], e["101"]["outgoing_answered"], e["101"]["talk_average"]) == (1, 0, 0.0)
    # and every figure drills down to its calls
    assert e["100"]["calls"]["incoming_missed"] == [sid(2)] and e["103"]["calls"]["incoming_missed"] == [sid(3)]


def test_another_day_has_no_figures(api, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    scripted_day(Calls(gateway, clock))
    assert api.get("/stats/employees?from=2026-11-25&to=2026-11-25").json_body["employees"] == {}


def test_missed_call_recovery_and_repeat_callers(api, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    scripted_day(Calls(gateway, clock))
    body = api.get("/stats/kpis?from=2026-11-24").json_body
    rec = body["missed_call_recovery"]
    # B (missed 15:02:30) was answered when calling again at 15:03:22: 52 s; C was never reached
    assert (rec["missed_callers"], rec["reached"], rec["rate"], rec["median_seconds_to_callback"]) == (2, 1, 0.5, 52.0)
    assert {c["caller"]: c["reached_by"] for c in rec["callers"]} == {B: sid(6), C: ""}
    rep = body["repeat_callers"]
    assert (rep["inbound_calls"], rep["repeat_calls"], rep["rate"], rep["calls"]) == (4, 1, 0.25, [sid(6)])


def test_cdrs_filter_and_export_as_csv(api, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    scripted_day(Calls(gateway, clock))
    missed = api.get("/cdrs?from=2026-11-24&outcome=missed").json_body
    assert [c["sid"] for c in missed["cdrs"]] == [sid(3)]
    of_100 = api.get("/cdrs?from=2026-11-24&extension=100").json_body
    assert [c["sid"] for c in of_100["cdrs"]] == [sid(2), sid(6)]
    drill = api.get(f"/cdrs?calls={sid(2)},{sid(4)}").json_body
    assert [c["sid"] for c in drill["cdrs"]] == [sid(2), sid(4)]
    resp = api.get("/cdrs?from=2026-11-24&format=csv")
    assert _header(resp, "content-type").startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.body.decode())))
    assert [r["sid"] for r in rows] == [sid(n) for n in range(1, 7)]
    assert rows[1]["outcome"] == "voicemail" and rows[1]["voicemail"] == f"https://gw/rec/RE{sid(2)[2:]}"
    assert rows[3]["extensions"] == "102" and rows[3]["talk"] == "30.0"


def test_live_view_is_cheap_to_poll(api, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    calls = Calls(gateway, clock)
    # given one finished call and one caller still in the menu
    calls.inbound(sid(1), "+15550002001", "2", ring=8, talk=95)
    gateway.post("voice", {**_params(sid(9))})
    first = api.get("/live")
    assert first.status_code == 200
    body = first.json_body
    assert [c["sid"] for c in body["calls"]] == [sid(9)] and body["calls"][0]["outcome"] == "in-ivr"
    # when nothing changed, the same ETag answers 304 without a body
    again = api.get("/live", **{"If-None-Match": _header(first, "etag")})
    assert again.status_code == 304
    # when the caller hangs up, a poll since the cursor returns just that change
    calls.status(sid(9), "completed", 7)
    delta = api.get(f"/live?since={body['cursor']}").json_body
    assert [(c["sid"], c["ended"]) for c in delta["calls"]] == [(sid(9), True)]
    assert api.get("/live").json_body["calls"] == []
    # and a change to a call older than the live window (a late callback) is not looked for there either
    clock.advance(13 * 3600)
    cursor = api.get("/live").json_body["cursor"]
    calls.status(sid(9), "completed", 8)
    late = api.get(f"/live?since={cursor}").json_body
    assert late["calls"] == [] and late["cursor"] != cursor


def _header(resp, name: str) -> str:  # type: ignore[no-untyped-def]
    return str({k.lower(): v for k, v in resp.headers.items()}[name])


def _params(call: str) -> dict[str, str]:
    from tests.conftest import call_params

    return call_params(call, From="+15550002009")


def test_stats_need_a_key_with_the_right_permission(api, services) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.auth import create_api_key

    assert api.client.http.get("/api/v1/tenants/demo/stats/employees").status_code == 401
    key, _ = create_api_key(services, "demo", scopes=["config.read"], label="narrow", actor="test")
    resp = api.client.http.get("/api/v1/tenants/demo/cdrs", headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == 403


def test_a_bad_period_is_refused_naming_the_parameter(api) -> None:  # type: ignore[no-untyped-def]
    resp = api.get("/stats/employees?from=2026-13-01")
    assert resp.status_code == 400 and "from" in resp.json_body["errors"][0]["message"]
    resp = api.get("/stats/kpis?from=2026-11-24&to=2026-11-20")
    assert resp.status_code == 400 and resp.json_body["errors"][0]["pointer"] == "/query/to"


def test_a_call_whose_last_status_never_came_leaves_the_live_view_after_12_hours(api, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    gateway.post("voice", _params(sid(9)))
    assert [c["sid"] for c in api.get("/live").json_body["calls"]] == [sid(9)]
    clock.advance(12 * 3600 + 1)
    assert api.get("/live").json_body["calls"] == []
