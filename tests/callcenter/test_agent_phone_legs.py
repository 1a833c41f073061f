"""An agent who takes queue calls on a phone number (a mobile at home) is rung through the phone network:
each answered agent leg is a paid call, rated on the bill by the number's prefix. Worked out by hand."""

from __future__ import annotations

import json

from chalice.test import Client

from chalicelib.auth import create_api_key
from chalicelib.server import load_app_module
from domain.tenant import TenantConfigPatched
from tests.callcenter.conftest import CallCenter

MOBILE = "+447700900123"  # the standard tariff: +447 at 0.090 per minute, per started minute


def test_an_answered_leg_to_an_agents_phone_number_is_on_the_bill(cc: CallCenter) -> None:
    # given agent 202 works from a UK mobile, 201 from a SIP phone
    version = cc.services.store.stream_version("tenant-demo")
    cc.services.tenants.append("demo", [TenantConfigPatched(
        path=["extensions", "202"], patch={"devices": [{"type": "number", "number": MOBILE}]}, actor="test")], version)
    # when 202 alone is logged in and takes a caller for 61 s (the gateway reports the leg's 61 s)
    cc.login("202")
    cc.call(cc.sid(1), "+15550002000")
    leg = [r for r in cc.rest.created() if r.params["To"] == MOBILE][-1]
    assert cc.post(leg.params["Url"], {"CallSid": leg.sid, "CallStatus": "in-progress"})[0] == 200
    cc.clock.advance(61)
    assert cc.post(leg.params["StatusCallback"], {"CallSid": leg.sid, "CallStatus": "completed",
                                                  "CallDuration": "61"})[0] == 200
    # and 201 (SIP) takes a second caller for 30 s
    cc.login("201")
    cc.call(cc.sid(2), "+15550002001")
    cc.answer("201")
    cc.clock.advance(30)
    cc.agent_leg_ends("201", duration=30)
    # then the bill has one agent-phone line: 61 s -> 120 s billed x 0.090/min = 0.18; the SIP leg is free
    key, _ = create_api_key(cc.services, "demo", scopes=["*"], label="bill")
    with Client(load_app_module().app) as client:
        bill = json.loads(client.http.get("/api/v1/tenants/demo/bills/2026-11?details=1",
                                          headers={"Authorization": f"Bearer {key}"}).body)
    lines = [line for line in bill["lines"] if line["kind"] == "agent_minutes"]
    assert [(line["prefix"], line["amount"], line["quantity"]) for line in lines] == [("447", "0.18", "2.00")]
    assert [(i["agent"], i["call"], i["to"], i["seconds"], i["billed_seconds"]) for i in lines[0]["items"]] == \
        [("202", cc.sid(1), MOBILE, 61, 120)]
    assert lines[0]["description"].startswith("Calls to agents' phones at") and "(+447)" in lines[0]["description"]
