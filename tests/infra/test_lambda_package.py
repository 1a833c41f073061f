"""infra/package-lambda.sh stages a package that holds everything app.py imports, and nothing heavy."""

from __future__ import annotations

import importlib.metadata as md
import json
import re
import subprocess
import sys
from pathlib import Path

from tests.infra.support import ROOT

SCRIPT = ROOT / "infra" / "package-lambda.sh"
REQUIREMENTS = ROOT / "infra" / "lambda-requirements.txt"
VENDORED = {"domain", "media_core"}  # copied from the repo root into vendor/
APP_ITSELF = {"app", "chalicelib", "chalice"}  # the staged functions/ dir; Chalice bundles its runtime


def modules_app_imports() -> set[str]:
    """Top-level modules loaded by importing app.py in a fresh interpreter (not the stdlib)."""
    code = ("import sys, json; sys.path[:0] = ['.', 'functions']; before = set(sys.modules); import app; "
            "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=60)
    loaded = set(json.loads(out.stdout.splitlines()[-1]))
    return {m for m in loaded if m not in sys.stdlib_module_names and not m.startswith("_") and m != "cython_runtime"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_closure(requirements: list[str]) -> set[str]:
    """The requirements and everything they need (installed metadata, no extras)."""
    todo, seen = [norm(r) for r in requirements], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for req in md.requires(name) or []:
            if "extra ==" not in req:
                todo.append(norm(re.split(r"[ ;<>=!~\[(]", req, maxsplit=1)[0]))
    return seen


def requirement_names() -> list[str]:
    lines = [ln.strip() for ln in REQUIREMENTS.read_text().splitlines()]
    return [re.split(r"[ ;<>=!~\[]", ln, maxsplit=1)[0] for ln in lines if ln and not ln.startswith("#")]


def test_the_lambda_requirements_cover_every_third_party_module_the_app_imports() -> None:
    # given what importing app.py loads, and the distributions those modules come from
    loaded = modules_app_imports()
    dists = md.packages_distributions()
    needed = {norm(dists[m][0]) for m in loaded - VENDORED - APP_ITSELF}
    # then each is installed by infra/lambda-requirements.txt (directly or as a dependency)
    assert needed - installed_closure(requirement_names()) == set()
    # and the backend stays light: the media core's numeric stack is not part of a cold start
    assert not loaded & {"numpy", "numba", "aiohttp"}
    assert VENDORED <= loaded


def test_the_script_stages_functions_with_the_vendored_packages_and_merges_the_template(tmp_path: Path) -> None:
    # given a stand-in for the chalice CLI that records what it is run with and in
    fake = tmp_path / "chalice"
    record = tmp_path / "record.json"
    fake.write_text("#!/usr/bin/env python3\nimport json, os, sys\n"
                    f"json.dump({{'args': sys.argv[1:], 'cwd': os.getcwd(), 'files': sorted(os.listdir('.')),"
                    f" 'vendor': sorted(os.listdir('vendor')), 'requirements': open('requirements.txt').read(),"
                    f" 'config': open('.chalice/config.json').read()}}, open({str(record)!r}, 'w'))\n")
    fake.chmod(0o755)
    # when the script runs
    subprocess.run(["bash", str(SCRIPT), str(tmp_path / "out")], check=True, timeout=60,
                   env={"PATH": "/usr/bin:/bin", "CHALICE": str(fake)}, capture_output=True)
    seen = json.loads(record.read_text())
    # then chalice packaged the prod stage of a copy of functions/ merged with infra/template.yaml
    assert seen["args"] == ["package", "--stage", "prod", "--merge-template", str(ROOT / "infra" / "template.yaml"),
                            str(tmp_path / "out")]
    assert {"app.py", "chalicelib", "vendor"} <= set(seen["files"])
    assert seen["config"] == (ROOT / "functions" / ".chalice" / "config.json").read_text()
    # with domain/ and media_core/ vendored, the web app where VPBX_WEB_DIST points, our requirements
    assert VENDORED <= set(seen["vendor"])
    assert ("web-dist" in seen["vendor"]) == (ROOT / "web" / "dist").is_dir()
    assert seen["requirements"] == REQUIREMENTS.read_text()
    # and the staging directory is gone afterwards
    assert not Path(seen["cwd"]).exists()
