"""Replaying the log rebuilds byte-identical outputs, whether from scratch, twice, or followed live."""

from __future__ import annotations

import re

from chalicelib.cli import main
from chalicelib.projections.follower import catch_up
from chalicelib.projections.log import projection_store
from chalicelib.projections.store import SQLiteProjectionStore
from tests.projections.conftest import scripted_day
from tests.projections.scenario import Calls, sid


def digests(out: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\w+)\s+sha256:([0-9a-f]{64})$", out, re.M))


def dump(store: SQLiteProjectionStore) -> bytes:
    return b"".join(line for name in ("calls", "agents", "queues", "callbacks", "mailboxes", "chain") for line in store.dump(name))


def test_replaying_twice_gives_byte_identical_outputs(services, gateway, clock, capsys) -> None:  # type: ignore[no-untyped-def]
    scripted_day(Calls(gateway, clock))
    assert main(["replay", "--quiet"]) == 0
    first = capsys.readouterr().out
    out = projection_store(services)
    first_dump = dump(out)
    assert main(["replay", "--quiet"]) == 0
    second = capsys.readouterr().out
    assert digests(first) == digests(second) and set(digests(first)) == {"calls", "agents", "queues", "callbacks", "mailboxes"}
    assert dump(out) == first_dump and first_dump.count(b"states\tcall-") == 6
    assert re.search(r"replayed (\d+) events .*; (\d+) of them folded", first)


def test_the_chain_is_extended_by_a_replay_never_rebuilt(services, gateway, clock, capsys) -> None:  # type: ignore[no-untyped-def]
    calls = Calls(gateway, clock)
    calls.inbound(sid(1), "+15550002001", "2", ring=8, talk=95)
    catch_up(services)
    out = projection_store(services)
    head = out.state("chain", "demo")
    assert head is not None
    calls.inbound(sid(2), "+15550002002", "2", ring=5, talk=10)
    assert main(["replay", "--quiet", "--projection", "chain"]) == 0
    first = digests(capsys.readouterr().out)
    extended = out.state("chain", "demo")
    assert extended is not None and extended["n"] > head["n"]
    assert main(["replay", "--quiet", "--projection", "chain"]) == 0  # nothing new: nothing changes
    assert digests(capsys.readouterr().out) == first and out.state("chain", "demo") == extended
    assert main(["verify", "--tenant", "demo"]) == 0


def test_following_the_log_live_ends_where_a_full_replay_does(services, gateway, clock, capsys) -> None:  # type: ignore[no-untyped-def]
    # given the projections followed call by call while the day happens (checkpoints in between)
    calls = Calls(gateway, clock)
    calls.inbound(sid(1), "+15550002001", "2", ring=8, talk=95)
    catch_up(services)
    gateway.post("voice", {"CallSid": sid(2), "AccountSid": "AC" + "0" * 32, "From": "+15550002002",
                           "To": "+15550001000", "CallStatus": "ringing", "Direction": "inbound",
                           "ApiVersion": "2010-04-01"})
    catch_up(services)  # a call still open at a checkpoint
    calls.status(sid(2), "completed", 9, From="+15550002002")
    calls.outbound(sid(3), "client:102", "+442071234567", talk=30)
    catch_up(services)
    out = projection_store(services)
    followed = dump(out)
    # when everything is rebuilt from scratch
    assert main(["replay", "--quiet"]) == 0
    capsys.readouterr()
    # then the outputs are the same bytes
    assert dump(out) == followed


def test_replaying_one_tenant_or_one_window_leaves_the_same_outputs(services, gateway, clock, capsys) -> None:  # type: ignore[no-untyped-def]
    scripted_day(Calls(gateway, clock))
    assert main(["replay", "--quiet"]) == 0
    capsys.readouterr()
    out = projection_store(services)
    full = dump(out)
    assert main(["replay", "--quiet", "--tenant", "demo", "--projection", "calls"]) == 0
    assert dump(out) == full
    assert main(["replay", "--quiet", "--from", "2026-11-24", "--to", "2026-11-25"]) == 0
    assert dump(out) == full
    # and the same, split across two processes
    assert main(["replay", "--quiet", "--jobs", "2", "--tenant", "demo"]) == 0
    assert dump(out) == full
    assert main(["replay", "--quiet", "--jobs", "2", "--from", "2026-11-24", "--to", "2026-11-25"]) == 0
    assert dump(out) == full
    assert "replayed" in capsys.readouterr().out


def test_a_bad_date_is_refused_naming_the_option(services) -> None:  # type: ignore[no-untyped-def]
    import pytest

    with pytest.raises(SystemExit, match="--from"):
        main(["replay", "--quiet", "--from", "24/11/2026"])


def test_the_sqlite_fast_path_and_the_generic_path_build_the_same_outputs(services, gateway, clock,
                                                                          tmp_path) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.projections.log import sqlite_rows
    from chalicelib.projections.runner import Runner
    from domain.projections import all_projections

    scripted_day(Calls(gateway, clock))
    fast = SQLiteProjectionStore(tmp_path / "fast.sqlite")
    Runner(fast, all_projections(), fresh=True).run_rows(sqlite_rows(services.store, None, ""))
    generic = SQLiteProjectionStore(tmp_path / "generic.sqlite")
    Runner(generic, all_projections()).run(_events(services))
    assert dump(fast) == dump(generic) and b"states\tdemo\t" in dump(fast)  # the chain head too
    # the views alone read only the rows they use (SQLite filters by type and needle) and agree too
    from chalicelib.projections.log import view_rows

    views = [p for p in all_projections() if p.name != "chain"]
    views_only = b"".join(line for p in views for line in generic.dump(p.name))
    logged = services.store._conn().execute("SELECT COUNT(*) FROM events").fetchone()[0]
    narrow = SQLiteProjectionStore(tmp_path / "narrow.sqlite")
    runner = Runner(narrow, views, fresh=True)
    read = runner.run_view_rows(view_rows(services.store, None, "", runner.row_filter() or {}), flush_every=7)
    assert 0 < read < logged
    assert b"".join(line for p in views for line in narrow.dump(p.name)) == views_only
    wide = SQLiteProjectionStore(tmp_path / "wide.sqlite")  # the general loop over the same narrowed rows
    runner = Runner(wide, views, fresh=True)
    assert runner.run_rows(sqlite_rows(services.store, None, "", runner.row_filter())) == read
    assert b"".join(line for p in views for line in wide.dump(p.name)) == views_only


def test_the_view_loop_refuses_the_hash_chain(services, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from chalicelib.projections.runner import Runner
    from domain.projections import all_projections

    with pytest.raises(ValueError, match="hash chain"):
        Runner(SQLiteProjectionStore(tmp_path / "x.sqlite"), all_projections()).run_view_rows([])


def test_the_needles_agree_with_the_folds(services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    # every event a needle test would skip is one its fold ignores (returns None)
    from domain.projections import all_projections
    from domain.projections.base import StreamProjection

    scripted_day(Calls(gateway, clock))
    events = list(_events(services))
    skipped = 0
    for p in all_projections():
        if not isinstance(p, StreamProjection):
            continue
        for e in events:
            needles = p.prefilter.get(e.event_type)
            if needles is None or not p.follows(e):
                continue
            text = services.store._conn().execute("SELECT data FROM events WHERE position = ?",
                                                  (int(e.position),)).fetchone()[0]
            if not any(n in text for n in needles):
                skipped += 1
                assert p.evolve(None, e)[0] is None, (p.name, e.event_type, text)
    assert skipped > 0


def _events(services):  # type: ignore[no-untyped-def]
    """Envelopes through the store's public read_log (decoded data, no raw text)."""
    after = ""
    while True:
        page = services.store.read_log(None, after=after, limit=7)
        yield from page
        if len(page) < 7:
            return
        after = page[-1].position


def test_a_replay_split_across_processes_builds_the_same_bytes_and_checkpoints(services, gateway, clock,
                                                                              capsys) -> None:  # type: ignore[no-untyped-def]
    # given a day of calls rebuilt by one process
    scripted_day(Calls(gateway, clock))
    assert main(["replay", "--quiet"]) == 0
    one = capsys.readouterr().out
    out = projection_store(services)
    single = dump(out)
    checkpoints = {n: out.checkpoint(n) for n in ("calls", "agents", "queues", "callbacks", "mailboxes")}
    # when two and three processes rebuild it, each folding its share of the streams
    for jobs in ("2", "3"):
        assert main(["replay", "--quiet", "--jobs", jobs]) == 0
        split = capsys.readouterr().out
        # then the outputs are the same bytes, with the same digests, and the follower finds nothing to fold
        assert dump(out) == single and digests(split) == digests(one)
        assert re.search(r"replayed (\d+) events", split).group(1) == re.search(r"replayed (\d+) events", one).group(1)  # type: ignore[union-attr]
        assert all(out.checkpoint(n)[0] >= checkpoints[n][0] for n in checkpoints)
    # and following the log afterwards changes no view (it only chains what was not chained yet)
    catch_up(services)
    views = b"".join(line for n in checkpoints for line in out.dump(n))
    assert views == b"".join(line for line in single.splitlines(keepends=True) if not line.startswith(b"states\tdemo"))


def test_the_shares_of_a_split_replay_cover_every_stream_once(services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.projections.log import view_rows

    scripted_day(Calls(gateway, clock))
    every = [r[0] for r in view_rows(services.store, None, "", {})]
    only = {"CallStarted": None, "CallStatusChanged": None, "CallerQueued": None, "AgentLoggedIn": None}
    for n in (2, 3, 5):
        shares = [[r for r in view_rows(services.store, None, "", only, (k, n))] for k in range(n)]
        positions = sorted(r[0] for share in shares for r in share)
        assert positions == sorted(r[0] for r in view_rows(services.store, None, "", only))
        streams = [{r[2] for r in share} for share in shares]
        assert all(not (a & b) for i, a in enumerate(streams) for b in streams[i + 1:])  # a stream in one share
    assert every == []  # no type asked for: no row


def test_a_bad_job_count_is_refused_naming_the_option(services) -> None:  # type: ignore[no-untyped-def]
    import pytest

    with pytest.raises(SystemExit):
        main(["replay", "--quiet", "--jobs", "0"])


def test_a_one_tenant_replay_leaves_other_tenants_events_to_the_follower(services, gateway, clock, capsys) -> None:  # type: ignore[no-untyped-def]
    from domain.events import StoredEvent

    def call(tenant: str, call_sid: str) -> None:
        at = "2026-11-24T15:00:00.000000+00:00"
        events = [StoredEvent(tenant_id=tenant, stream_id=f"call-{call_sid}", version=v, event_id=f"{call_sid}-{v}",
                              event_type=t, schema_version=s, occurred_at=at, recorded_at=at, correlation_id="r",
                              causation_id="r", data=d)
                  for v, t, s, d in ((1, "CallStarted", 2, {"from_number": "+1555", "to_number": "+1556"}),
                                     (2, "CallStatusChanged", 1, {"status": "completed", "duration": 3}))]
        services.store.append(f"call-{call_sid}", events, 0)

    # given the projections followed up to here
    Calls(gateway, clock).inbound(sid(1), "+15550002001", "2", ring=8, talk=95)
    catch_up(services)
    # and, before the follower's next pass, a call of another tenant and one of the demo tenant
    call("other", "CAOTHER")
    call("demo", "CADEMO")
    # when the demo tenant alone is rebuilt, and then the follower runs
    assert main(["replay", "--quiet", "--tenant", "demo"]) == 0
    capsys.readouterr()
    catch_up(services)
    # then the other tenant's call was not skipped
    out = projection_store(services)
    assert [c["sid"] for c in out.states("calls", "other")] == ["CAOTHER"]
    assert {c["sid"] for c in out.states("calls", "demo")} == {sid(1), "CADEMO"}


def test_a_share_that_fails_fails_the_split_replay_naming_it(services, gateway, clock, capsys) -> None:  # type: ignore[no-untyped-def]
    import pytest

    # given a log with a row whose data is not JSON (written behind the store's back)
    Calls(gateway, clock).inbound(sid(1), "+15550002001", "2", ring=8, talk=95)
    services.store._conn().execute(
        "INSERT INTO events (tenant_id, stream_id, version, event_id, event_type, schema_version, occurred_at, "
        "recorded_at, correlation_id, causation_id, data) VALUES ('demo', 'call-CABAD', 1, 'bad-1', 'CallStarted', 2, "
        "'2026-11-24T15:00:00+00:00', '2026-11-24T15:00:00+00:00', 'r', 'r', '{not json')")
    # when it is replayed in two processes, then the replay fails and says which share and why
    with pytest.raises(SystemExit, match=r"replay share \d of 2 failed: JSONDecodeError"):
        main(["replay", "--quiet", "--jobs", "2"])
    # and no checkpoint claims the rebuild is done
    assert projection_store(services).checkpoint("calls") == ("", 0)
