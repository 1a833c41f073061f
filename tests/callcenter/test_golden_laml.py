"""The call center's LaML documents, byte for byte (golden files in tests/callcenter/golden/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.callcenter.conftest import CallCenter, cc_config, setup_callcenter

GOLDEN = Path(__file__).parent / "golden"
A = "+15550002000"


def check(name: str, laml: str) -> None:
    path = GOLDEN / f"{name}.xml"
    if os.environ.get("VPBX_UPDATE_GOLDEN"):
        path.write_text(laml)
    assert laml == path.read_text(), f"{name} differs from its golden file"


@pytest.fixture
def documents(cc: CallCenter) -> dict[str, str]:
    setup_callcenter(cc.services, {"support": cc_config(music="https://music.example/hold.mp3")})
    out = {"queue_entry": cc.gw.post("voice", {"CallSid": cc.sid(1), "AccountSid": "AC" + "0" * 32, "From": A,
                                               "To": "+15550001001", "CallStatus": "ringing",
                                               "Direction": "inbound", "ApiVersion": "2010-04-01"}).body}
    cc.hold_url[cc.sid(1)] = "https://pbx.example.com/callcenter/demo/queue?node=q&priority=0&queue=support&step=1"
    out["hold_loop"] = cc.poll(cc.sid(1), A)
    cc.login("201")
    out["agent_answer"] = cc.answer("201")
    code, out["caller_bridge"] = cc.post(f"https://pbx.example.com/callcenter/demo/bridge?room=cc-{cc.sid(1)}",
                                         {"CallSid": cc.sid(1), "CallStatus": "in-progress"})
    cc.call(cc.sid(2), "+15550002001")
    out["callback_promise"] = cc.poll(cc.sid(2), "+15550002001", digits="1")
    return out


@pytest.mark.parametrize("name", ["queue_entry", "hold_loop", "agent_answer", "caller_bridge", "callback_promise"])
def test_documents_match_their_golden_files(documents: dict[str, str], name: str) -> None:
    check(name, documents[name])
