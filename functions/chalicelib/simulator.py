"""vpbx simulate: play the gateway. Post signed webhooks, follow the LaML, print each step."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import requests

from chalicelib.signatures import twilio_signature

Printer = Callable[[str], None]


def device_address(noun: ET.Element) -> str:
    """The ``To`` of the leg a <Dial> noun places, as the gateway reports it (a client leg's is ``client:<id>``)."""
    text = (noun.text or "").strip()
    return f"client:{text}" if noun.tag == "Client" else text


@dataclass
class Script:
    """What the simulated caller and callees do."""

    digits: list[str] = field(default_factory=list)
    dial: list[str] = field(default_factory=list)  # per <Dial>: completed, busy, no-answer, failed
    record_seconds: int = 12


@dataclass
class Gateway:
    """A TwiML gateway in miniature, posting to the vpbx webhooks over HTTP."""

    base_url: str  # where vpbx listens (http://127.0.0.1:8000)
    public_url: str  # what vpbx believes its public URL is (signatures use it)
    tenant: str
    auth_token: str
    say: Printer = print
    session: requests.Session = field(default_factory=requests.Session)

    def post(self, url: str, params: dict[str, str]) -> requests.Response:
        signed_url = url if url.startswith(self.public_url) else self.public_url + urlsplit(url).path
        headers = {"X-Twilio-Signature": twilio_signature(self.auth_token, signed_url, params.items()),
                   "Content-Type": "application/x-www-form-urlencoded"}
        local = self.base_url + url[len(self.public_url):] if url.startswith(self.public_url) else url
        return self.session.post(local, data=urlencode(params), headers=headers, timeout=10)

    def call(self, to: str, from_: str, script: Script, call_sid: str | None = None) -> list[str]:
        """Place one inbound call; returns the transcript lines."""
        sid = call_sid or "CA" + uuid.uuid4().hex
        common = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": from_, "To": to, "Direction": "inbound",
                  "ApiVersion": "2010-04-01"}
        lines: list[str] = []
        digits, dials = iter(script.digits), iter(script.dial)
        url = f"{self.public_url}/webhooks/{self.tenant}/voice"
        params = {**common, "CallStatus": "ringing"}
        for _ in range(50):
            resp = self.post(url, params)
            if resp.status_code != 200:
                self._out(lines, f"!! vpbx answered HTTP {resp.status_code}: {resp.text.strip()}")
                break
            nxt = self._follow(ET.fromstring(resp.text), common, digits, dials, script, lines)
            if nxt is None:
                break
            url, params = nxt
        self._out(lines, "-- call ended")
        self.post(f"{self.public_url}/webhooks/{self.tenant}/status",
                  {**common, "CallStatus": "completed", "SequenceNumber": "9", "CallDuration": "30"})
        return lines

    def _out(self, lines: list[str], text: str) -> None:
        lines.append(text)
        self.say(text)

    def _follow(self, doc: ET.Element, common: dict[str, str], digits: Iterator[str], dials: Iterator[str],
                script: Script, lines: list[str]) -> tuple[str, dict[str, str]] | None:
        for verb in doc:
            tag = verb.tag
            if tag == "Say":
                self._out(lines, f"caller hears: {verb.text}")
            elif tag == "Play":
                self._out(lines, f"caller hears audio: {verb.text}")
            elif tag == "Gather":
                for prompt in verb:
                    self._out(lines, f"caller hears: {prompt.text}")
                pressed = next(digits, None)
                if pressed is not None and pressed != "":
                    self._out(lines, f"caller presses: {pressed}")
                    return verb.attrib["action"], {**common, "CallStatus": "in-progress", "Digits": pressed}
                self._out(lines, "caller presses nothing")
            elif tag == "Dial":
                who = ", ".join(f"{t.tag.lower()} {t.text}" for t in verb)
                outcome = next(dials, script.dial[-1] if script.dial else "no-answer")
                self._out(lines, f"dialling {who} (timeout {verb.get('timeout', '30')} s): {outcome}")
                leg = "CA" + uuid.uuid4().hex
                answering = next(iter(verb), None)  # the first device picks up
                if outcome == "completed" and answering is not None and answering.get("url"):
                    # as the gateway does: fetch the answer URL on the new leg before bridging it
                    self.post(str(answering.get("url")), {**common, "CallSid": leg, "ParentCallSid": common["CallSid"],
                                                          "To": device_address(answering), "Direction": "outbound-dial",
                                                          "CallStatus": "in-progress"})
                    self._out(lines, f"{answering.tag.lower()} {answering.text} picks up")
                params = {**common, "CallStatus": "in-progress", "DialCallStatus": outcome, "DialCallSid": leg,
                          "DialCallDuration": "42" if outcome == "completed" else "0"}
                if "action" in verb.attrib:
                    return verb.attrib["action"], params
                return None
            elif tag == "Record":
                self._out(lines, f"recording a message ({script.record_seconds} s)")
                rec = "RE" + uuid.uuid4().hex
                return verb.attrib["action"], {**common, "CallStatus": "in-progress",
                                               "RecordingUrl": f"https://gateway.example/recordings/{rec}",
                                               "RecordingSid": rec, "RecordingDuration": str(script.record_seconds)}
            elif tag == "Redirect":
                return (verb.text or "").strip(), {**common, "CallStatus": "in-progress"}
            elif tag == "Hangup":
                self._out(lines, "vpbx hangs up")
                return None
            elif tag == "Reject":
                self._out(lines, f"call rejected ({verb.get('reason', 'rejected')})")
                return None
            else:
                self._out(lines, f"<{tag}> {ET.tostring(verb, encoding='unicode')}")
        return None
