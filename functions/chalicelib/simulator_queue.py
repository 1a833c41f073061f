"""Queue simulator: plays callers, agents, customers and the gateway against the call-center shell, in
process, on virtual time. Used by ``vpbx simulate-queue`` and by the load test.

Every caller ends answered, called back, in voicemail -- or is counted as lost. Agents are audited
afterwards: no offer may ever have been made while the agent had another offer or call open.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from chalicelib.bootstrap import Services
from chalicelib.callcenter.operations import set_presence
from chalicelib.callcenter.scheduler import double_bookings, tick
from chalicelib.callcenter.streams import agent_stream, load_callbacks, load_events, load_queue
from chalicelib.callcenter.webhooks import handle_callcenter
from chalicelib.calls import handle_webhook
from chalicelib.gateway_api import RecordingGateway
from chalicelib.signatures import public_url, twilio_signature
from domain.tenant import PlanPublished, TenantConfigured

TOKEN = "sim-token"
NUMBER = "+15557770000"


@dataclass
class Scenario:
    callers: int = 30
    agents: int = 4
    strategy: str = "longest_idle"
    talk_seconds: int = 60
    max_wait: int = 600
    callback_share: float = 0.1  # press the callback key after 30 s of waiting
    abandon_share: float = 0.05  # hang up after 45 s of waiting (-> callback task)
    no_answer_share: float = 0.05  # an agent lets an offer ring out
    concurrency: int = 16  # callers arriving at the same moment, each on its own thread
    step_seconds: int = 5
    poll_seconds: int = 60
    time_limit: int = 4 * 3600
    seed: int = 1


@dataclass
class Caller:
    sid: str
    number: str
    hold_url: str = ""
    joined_at: float = 0.0
    next_poll: float = 0.0
    plan: str = "wait"  # wait | callback | abandon
    outcome: str = ""  # answered | called_back | voicemail | lost
    talking_until: float = -1.0


@dataclass
class Report:
    callers: int
    agents: int
    outcomes: Counter[str]
    double_bookings: list[str]
    virtual_seconds: int
    wall_seconds: float
    max_wait: int
    offers: int
    auto_pauses: int
    lines: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.callers - sum(self.outcomes[k] for k in ("answered", "called_back", "voicemail"))

    def summary(self) -> str:
        return (f"callers={self.callers} agents={self.agents} answered={self.outcomes['answered']} "
                f"called_back={self.outcomes['called_back']} voicemail={self.outcomes['voicemail']} "
                f"lost={self.lost} double_booked={len(self.double_bookings)} offers={self.offers} "
                f"auto_pauses={self.auto_pauses} max_wait={self.max_wait}s virtual={self.virtual_seconds}s "
                f"wall={self.wall_seconds:.1f}s")


class VirtualClock:
    def __init__(self, start: datetime) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)


def setup_tenant(services: Services, tenant: str, s: Scenario) -> list[str]:
    agents = [f"{700 + i}" for i in range(s.agents)]
    config = {
        "name": "Queue Simulation", "timezone": "UTC", "language": "en-US",
        "gateway": {"provider": "twilio", "auth_token": TOKEN}, "numbers": {NUMBER: {"plan": "sim"}},
        "extensions": {a: {"name": f"Agent {a}", "devices": [{"type": "sip", "uri": f"sip:{a}@sim.invalid"}]}
                       for a in agents},
        "queues": {"sim": {"strategy": s.strategy, "members": agents, "ring_seconds": 15, "max_misses": 3,
                           "wrapup_seconds": 5, "max_wait": s.max_wait, "callback_key": "1",
                           "loop_seconds": s.poll_seconds}},
        "voicemail_boxes": {"sim": {}},
        "callbacks": {"retry_seconds": [60, 120], "max_attempts": 5, "queue": "sim"},
    }
    plan = {"root": {"id": "q", "action": "queue", "data": {"queue": "sim"},
                     "children": {"_": {"id": "vm", "action": "voicemail", "data": {"box": "sim"}}}}}
    services.tenants.append(tenant, [TenantConfigured(config=config, actor="simulator"),
                                     PlanPublished(plan_id="sim", version=1, document=plan, actor="simulator")], 0)
    return agents


class QueueSimulation:
    def __init__(self, services: Services, clock: VirtualClock, scenario: Scenario, tenant: str) -> None:
        if not isinstance(services.gateway, RecordingGateway):
            raise ValueError("the queue simulator needs services.gateway to be a RecordingGateway")
        self.services, self.clock, self.s, self.tenant = services, clock, scenario, tenant
        self.rest: RecordingGateway = services.gateway
        self.rng = random.Random(scenario.seed)
        self.t0 = clock()
        self.callers: dict[str, Caller] = {}
        self.by_number: dict[str, Caller] = {}
        self.seen_requests = 0
        self.legs: dict[str, dict[str, Any]] = {}  # gateway leg sid -> what the simulation knows about it
        self.events: list[tuple[float, str, Any]] = []  # (virtual second, action, payload)
        self.max_wait = 0

    # --- gateway plumbing ---------------------------------------------------------------------
    def elapsed(self) -> float:
        return (self.clock() - self.t0).total_seconds()

    def _sign(self, url: str, params: dict[str, str]) -> dict[str, str]:
        return {"X-Twilio-Signature": twilio_signature(TOKEN, url, params.items())}

    def callcenter(self, url: str, params: dict[str, str]) -> str:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        base = self.services.settings.public_url
        signed = base + parts.path + ("?" + urlencode(sorted(query.items())) if query else "")
        _, tenant, endpoint = parts.path.strip("/").split("/")
        status, body = handle_callcenter(self.services, tenant_id=tenant, endpoint=endpoint, query=query,
                                         headers=self._sign(signed, params), body=urlencode(params).encode(),
                                         content_type="application/x-www-form-urlencoded")
        if status != 200:
            raise RuntimeError(f"{endpoint} answered {status}: {body}")
        return body

    def voice(self, endpoint: str, params: dict[str, str], query: dict[str, str] | None = None) -> str:
        query = query or {}
        url = public_url(self.services.settings.public_url, f"/webhooks/{self.tenant}/{endpoint}", query)
        resp = handle_webhook(self.services, tenant_id=self.tenant, endpoint=endpoint, query=query,
                              headers=self._sign(url, params), body=urlencode(params).encode(),
                              content_type="application/x-www-form-urlencoded")
        return resp.body

    def caller_params(self, c: Caller, status: str = "in-progress", **extra: str) -> dict[str, str]:
        return {"CallSid": c.sid, "AccountSid": "AC" + "0" * 32, "From": c.number, "To": NUMBER,
                "CallStatus": status, "Direction": "inbound", "ApiVersion": "2010-04-01", **extra}

    # --- callers ------------------------------------------------------------------------------
    def arrive(self, c: Caller) -> None:
        first = self.voice("voice", self.caller_params(c, "ringing"))
        found = re.search(r"<Redirect[^>]*>([^<]+)</Redirect>", first)
        if not found:
            raise RuntimeError(f"the queue plan did not send caller {c.sid} to the queue: {first}")
        c.hold_url = found.group(1).replace("&amp;", "&")
        c.joined_at = self.elapsed()
        c.next_poll = c.joined_at + self.s.poll_seconds
        self.hold(c, self.callcenter(c.hold_url, self.caller_params(c)))

    def hold(self, c: Caller, laml: str) -> None:
        if "<Record" in laml:
            c.outcome = "voicemail"
            self.leave_message(c, laml)
        elif "<Conference" in laml and c.talking_until < 0:
            self.bridged(c)

    def leave_message(self, c: Caller, laml: str) -> None:
        """The caller leaves a 20 s message and hangs up: the gateway posts the recording to the <Record>'s action,
        then reports the call completed."""
        found = re.search(r'<Record[^>]*action="([^"]+)"', laml)
        if found:
            parts = urlsplit(found.group(1).replace("&amp;", "&"))
            self.voice(parts.path.rsplit("/", 1)[-1], self.caller_params(
                c, RecordingUrl=f"https://gateway.sim.invalid/recordings/RE{c.sid[2:]}", RecordingSid=f"RE{c.sid[2:]}",
                RecordingDuration="20"), dict(parse_qsl(parts.query)))
        self.voice("status", self.caller_params(c, "completed", SequenceNumber="9"))

    def bridged(self, c: Caller) -> None:
        c.talking_until = self.elapsed() + self.s.talk_seconds
        c.outcome = "answered"
        self.max_wait = max(self.max_wait, int(self.elapsed() - c.joined_at))

    def poll_callers(self) -> None:
        now = self.elapsed()
        for c in list(self.callers.values()):
            if c.outcome or c.talking_until >= 0 or c.plan == "gone":
                continue
            waited = now - c.joined_at
            if c.plan == "callback" and waited >= 30:
                c.plan = "gone"
                self.callcenter(c.hold_url, self.caller_params(c, Digits="1"))
                # vpbx says goodbye and hangs up; the gateway then reports the call completed, as for any call
                self.voice("status", self.caller_params(c, "completed", SequenceNumber="9"))
                continue
            if c.plan == "abandon" and waited >= 45:
                c.plan = "gone"
                self.voice("status", self.caller_params(c, "completed", SequenceNumber="9"))
                continue
            if now >= c.next_poll:
                c.next_poll = now + self.s.poll_seconds
                self.hold(c, self.callcenter(c.hold_url, self.caller_params(c)))

    # --- agents and customers -----------------------------------------------------------------
    def read_gateway(self) -> None:
        """React to what vpbx asked the gateway to do since the last look."""
        requests = self.rest.requests[self.seen_requests:]
        self.seen_requests += len(requests)
        now = self.elapsed()
        for r in requests:
            url = str(r.params.get("Url", ""))
            if r.op == "create" and "/agent?" in url:
                answers = self.rng.random() >= self.s.no_answer_share
                self.legs[r.sid] = {"kind": "agent", "url": url, "status_cb": r.params["StatusCallback"],
                                    "answer_at": now + 3 if answers else None, "ring_out_at": now + 15,
                                    "answered_at": None}
            elif r.op == "create" and "/customer?" in url:
                self.legs[r.sid] = {"kind": "customer", "number": r.params["To"], "status_cb": r.params["StatusCallback"],
                                    "end_at": now + self.s.talk_seconds}
            elif r.op == "update" and "/bridge?" in url:
                c = self.callers.get(r.sid)
                if c is not None and c.talking_until < 0:
                    self.bridged(c)
            elif r.op == "update" and r.params.get("Status") == "completed":
                leg = self.legs.get(r.sid)
                if leg is not None and leg["kind"] == "agent" and not leg.get("ended"):
                    leg["ended"] = True
                    answered = leg["answered_at"]
                    duration = int(now - answered) if answered is not None else 0
                    self.callcenter(leg["status_cb"], {"CallSid": r.sid, "CallStatus": "completed" if answered
                                                       is not None else "canceled", "CallDuration": str(duration)})

    def agent_legs(self) -> None:
        now = self.elapsed()
        for sid, leg in list(self.legs.items()):
            if leg["kind"] != "agent" or leg.get("ended") or leg["answered_at"] is not None:
                continue
            if leg["answer_at"] is not None and now >= leg["answer_at"]:
                laml = self.callcenter(leg["url"], {"CallSid": sid, "CallStatus": "in-progress"})
                room = re.search(r">(cc-[^<]+)</Conference>", laml)
                if room:
                    leg["answered_at"] = now
                    leg["room"] = room.group(1)
                else:
                    leg["ended"] = True  # told the caller is gone; the agent hangs up
                    self.callcenter(leg["status_cb"], {"CallSid": sid, "CallStatus": "completed",
                                                       "CallDuration": "0"})
            elif leg["answer_at"] is None and now >= leg["ring_out_at"]:
                leg["ended"] = True
                self.callcenter(leg["status_cb"], {"CallSid": sid, "CallStatus": "no-answer"})

    def end_conversations(self) -> None:
        now = self.elapsed()
        for c in self.callers.values():
            if 0 <= c.talking_until <= now and c.plan != "done":
                c.plan = "done"
                self.voice("status", self.caller_params(c, "completed", SequenceNumber="10",
                                                        CallDuration=str(self.s.talk_seconds)))
                for sid, leg in self.legs.items():  # the agent's leg ends with the conference
                    if leg["kind"] == "agent" and not leg.get("ended") and leg.get("room") == f"cc-{c.sid}":
                        leg["ended"] = True
                        self.callcenter(leg["status_cb"], {"CallSid": sid, "CallStatus": "completed",
                                                           "CallDuration": str(self.s.talk_seconds)})
        for sid, leg in list(self.legs.items()):
            if leg["kind"] == "customer" and not leg.get("ended") and now >= leg["end_at"]:
                leg["ended"] = True
                self.callcenter(leg["status_cb"], {"CallSid": sid, "CallStatus": "completed",
                                                   "CallDuration": str(self.s.talk_seconds)})
                customer = self.by_number.get(leg["number"])
                if customer is not None and customer.outcome in ("", "lost"):
                    customer.outcome = "called_back"

    # --- the run --------------------------------------------------------------------------------
    def run(self) -> Report:
        started = time.perf_counter()
        self.agents = setup_tenant(self.services, self.tenant, self.s)
        tenant = self.services.tenants.get(self.tenant)
        assert tenant is not None
        for a in self.agents:
            set_presence(self.services, tenant, a, "login", actor="simulator")
        for n in range(self.s.callers):
            roll = self.rng.random()
            plan = ("callback" if roll < self.s.callback_share else
                    "abandon" if roll < self.s.callback_share + self.s.abandon_share else "wait")
            c = Caller(sid=f"CA{self.s.seed:08x}{n + 1:024x}", number=f"+1555{self.s.seed % 1000:03d}{n:04d}", plan=plan)
            self.callers[c.sid] = c
            self.by_number[c.number] = c
        with ThreadPoolExecutor(self.s.concurrency) as pool:
            list(pool.map(self.arrive, self.callers.values()))
        while self.elapsed() < self.s.time_limit:
            self.read_gateway()
            self.agent_legs()
            self.read_gateway()
            self.end_conversations()
            self.read_gateway()
            self.poll_callers()
            tick(self.services, self.tenant)
            self.read_gateway()
            if self.finished():
                break
            self.clock.advance(self.s.step_seconds)
        return self.report(time.perf_counter() - started)

    def finished(self) -> bool:
        if not all(c.outcome for c in self.callers.values()):
            return False
        book, _ = load_callbacks(self.services, self.tenant)
        return not book.open_tasks() and all(leg.get("ended") for leg in self.legs.values())

    def report(self, wall: float) -> Report:
        book, _ = load_callbacks(self.services, self.tenant)
        for c in self.callers.values():
            if not c.outcome:
                c.outcome = "lost"
        outcomes = Counter(c.outcome for c in self.callers.values())
        problems = [f"{a}: {p}" for a in self.agents
                    for p in double_bookings(load_events(self.services, agent_stream(self.tenant, a))[0])]
        offers = sum(1 for a in self.agents for e in load_events(self.services, agent_stream(self.tenant, a))[0]
                     if e.event_type == "AgentOffered")
        pauses = sum(1 for a in self.agents for e in load_events(self.services, agent_stream(self.tenant, a))[0]
                     if e.event_type == "AgentPaused")
        line, _ = load_queue(self.services, self.tenant, "sim")
        report = Report(self.s.callers, self.s.agents, outcomes, problems, int(self.elapsed()), wall, self.max_wait,
                        offers, pauses)
        report.lines.append(f"queue outcomes: {dict(Counter(line.outcome.values()))}")
        report.lines.append(f"callback tasks: {dict(Counter(t.done or 'open' for t in book.tasks.values()))}")
        return report


def simulate_queue(services: Services, scenario: Scenario, tenant: str | None = None) -> Report:
    """Run a scenario on ``services`` (its clock must be a VirtualClock, its gateway a RecordingGateway)."""
    clock = services.clock
    if not isinstance(clock, VirtualClock):
        raise ValueError("simulate_queue needs services built with a VirtualClock")
    return QueueSimulation(services, clock, scenario, tenant or f"sim{scenario.seed}").run()


def virtual_services(sqlite_path: str, start: datetime | None = None) -> Services:
    """Services on an embedded SQLite file with a virtual clock and a recording gateway."""
    import itertools

    from chalicelib.bootstrap import bootstrap
    from chalicelib.settings import Settings
    from chalicelib.stores.sqlite import SQLiteEventStore

    clock = VirtualClock(start or datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    counter = itertools.count(1)
    lock = threading.Lock()

    def ids() -> str:
        with lock:
            return f"sim-{next(counter):010d}"

    settings = Settings(public_url="https://pbx.sim.invalid", store="sqlite", sqlite_path=sqlite_path)
    services = bootstrap(settings, SQLiteEventStore(sqlite_path), clock=clock, ids=ids)
    services.gateway = RecordingGateway()
    return services
