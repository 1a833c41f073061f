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
    return b"".join(line for name in ("calls", "agents", "queues", "callbacks", "chain") for line in store.dump(name))


def test_replaying_twice_gives_byte_identical_outputs(services, gateway, clock, capsys) -> None:  # type: ignore[no-untyped-def]
    scripted_day(Calls(gateway, clock))
    assert main(["replay", "--quiet"]) == 0
    first = capsys.readouterr().out
    out = projection_store(services)
    first_dump = dump(out)
    assert main(["replay", "--quiet"]) == 0
    second = capsys.readouterr().out
    assert digests(first) == digests(second) and set(digests(first)) == {"calls", "agents", "queues", "callbacks"}
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
