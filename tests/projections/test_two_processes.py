"""Two processes following the same log into the same projections database end where a rebuild does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from chalicelib.cli import main
from chalicelib.projections.follower import catch_up
from chalicelib.projections.log import projection_store
from tests.projections.conftest import scripted_day
from tests.projections.scenario import Calls
from tests.projections.test_replay import dump

ROOT = Path(__file__).resolve().parents[2]
FOLLOW = """
import os, sys, time
from chalicelib.bootstrap import get_services
from chalicelib.projections.follower import catch_up
stop = sys.argv[1]
while not os.path.exists(stop):
    catch_up(get_services())
    time.sleep(0.002)
catch_up(get_services())
"""


def test_followers_in_two_processes_converge_on_the_rebuilt_outputs(services, gateway, clock, tmp_path,
                                                                    capsys) -> None:  # type: ignore[no-untyped-def]
    stop = tmp_path / "stop"
    env = {**os.environ, "VPBX_SQLITE_PATH": services.settings.sqlite_path,
           "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'functions'}"}
    env.pop("VPBX_PROJECTIONS_PATH", None)
    followers = [subprocess.Popen([sys.executable, "-c", FOLLOW, str(stop)], env=env) for _ in range(2)]
    try:
        time.sleep(0.5)  # both are polling before the calls come in
        scripted_day(Calls(gateway, clock))
    finally:
        stop.write_text("done")
        codes = [p.wait(30) for p in followers]
    assert codes == [0, 0]
    catch_up(services)
    out = projection_store(services)
    followed = dump(out)
    assert main(["replay", "--quiet"]) == 0
    capsys.readouterr()
    rebuilt = dump(out)
    if rebuilt != followed:
        import difflib
        print("\n".join(difflib.unified_diff(followed.decode().splitlines(), rebuilt.decode().splitlines(), lineterm="", n=0)))
    assert rebuilt == followed and followed.count(b"states\tcall-") == 6
