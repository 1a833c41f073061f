"""infra/Dockerfile.media, read as Docker would: pinned base, non-root, the server's port, a health check."""

from __future__ import annotations

import re

from tests.infra.support import DOCKERFILE, ROOT


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def args(name: str) -> list[str]:
    return [a for i, a in instructions() if i == name]


def server_port() -> int:
    server = (ROOT / "media_core" / "server.py").read_text()
    return int(re.search(r'add_argument\("--port", type=int, default=(\d+)\)', server).group(1))  # type: ignore[union-attr]


def test_the_base_image_is_python_3_11_slim_and_the_only_stage() -> None:
    assert args("FROM") == ["python:3.11-slim"]


def test_the_server_runs_as_a_non_root_user_created_in_the_image() -> None:
    users = args("USER")
    assert users and users[-1] not in ("root", "0", "0:0")
    names = [i for i, _ in instructions()]
    last_user = max(n for n, i in enumerate(names) if i == "USER")
    assert last_user < names.index("CMD")
    assert any("useradd" in a and users[-1].split(":")[0] in a for a in args("RUN"))


def test_it_exposes_and_serves_the_port_the_media_server_listens_on() -> None:
    port = server_port()
    exposed = " ".join(args("EXPOSE")).split()
    assert f"{port}/tcp" in exposed or str(port) in exposed
    (cmd,) = args("CMD")
    assert f'"--port", "{port}"' in cmd and '"0.0.0.0"' in cmd


def test_the_health_check_asks_the_servers_health_route() -> None:
    (check,) = args("HEALTHCHECK")
    assert f"http://127.0.0.1:{server_port()}/health" in check
    assert 'add_get("/health"' in (ROOT / "media_core" / "server.py").read_text()
    assert "--timeout=" in check and "--interval=" in check
