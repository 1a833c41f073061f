"""vpbx serve: the PBX on the embedded default (SQLite, local files, chalice local)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

from chalicelib.bootstrap import get_services
from chalicelib.demo import DEMO_NUMBER, DEMO_TENANT, seed_demo
from chalicelib.server import make_server


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="run the PBX (HTTP API, webhooks, web app) on this machine")
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument("--seed-demo", action="store_true", help="create the demo tenant if missing")
    p.add_argument("--no-media", action="store_true", help="do not start the media core next to the backend")
    p.set_defaults(func=run)


def _start_media(port: int, media_token: str) -> subprocess.Popen[bytes] | None:
    try:
        import media_core.server  # noqa: F401
    except ImportError:
        return None
    # Both sides must agree on where the backend is and on the token the media core presents.
    env = {**os.environ, "VPBX_BACKEND_URL": os.environ.get("VPBX_BACKEND_URL", f"http://127.0.0.1:{port}"),
           "VPBX_MEDIA_TOKEN": media_token}
    media_port = os.environ.get("VPBX_MEDIA_PORT", str(port + 100))
    return subprocess.Popen([sys.executable, "-m", "media_core.server", "--host", "127.0.0.1", "--port", media_port],
                            env=env)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    # Without a configured public URL, the gateway (or `vpbx simulate`) reaches us where we listen.
    os.environ.setdefault("VPBX_PUBLIC_URL", f"http://127.0.0.1:{args.port}")
    services = get_services()
    if args.seed_demo and seed_demo(services.tenants, services.settings.demo_auth_token):
        print(f"seeded the demo tenant {DEMO_TENANT!r} (number {DEMO_NUMBER})")
    if args.seed_demo:
        from chalicelib.demo.users import seed_demo_users

        if seed_demo_users(services):
            print("seeded demo sign-ins: owner|admin|supervisor|agent|analyst@demo.test, password "
                  f"{os.environ.get('VPBX_DEMO_PASSWORD', 'demo-password')!r}")
        from chalicelib.demo.apikey import seed_demo_api_key

        key = seed_demo_api_key(services)
        print(f"  demo API key:   {key}  (shown once)" if key else
              f"  demo API key:   exists; another: .venv/bin/vpbx apikey create --tenant {DEMO_TENANT}")
    media = None if args.no_media else _start_media(args.port, services.settings.media_token)
    base = services.settings.public_url
    print(f"vpbx on http://{args.host}:{args.port}  (store: {services.settings.store})")
    print(f"  voice webhook:  {base}/webhooks/{DEMO_TENANT}/voice")
    print(f"  status webhook: {base}/webhooks/{DEMO_TENANT}/status")
    print(f"  web app:        {base}/app/")
    where = "" if args.port == 8000 else f" --url http://127.0.0.1:{args.port}"
    print(f"  try:  .venv/bin/vpbx simulate{where} --to {DEMO_NUMBER} --from +15550002000 --digits 1 --dial no-answer")
    from chalicelib.callcenter.background import start_scheduler  # call-center ticks (issue 4)

    stop_scheduler = start_scheduler(get_services, float(os.environ.get("VPBX_CALLCENTER_TICK", "5")))
    from chalicelib.callcenter.background import known_tenants
    from chalicelib.effect_retries import start_sweeper  # missed and failed effects (voicemail mail)

    stop_sweeper = start_sweeper(get_services, known_tenants, float(os.environ.get("VPBX_EFFECT_SWEEP", "30")))
    from chalicelib.projections.follower import LogFollower  # statistics follow the log (issue 5)

    follower = LogFollower(services)
    follower.start()
    server = make_server(args.host, args.port)
    signal.signal(signal.SIGTERM, _interrupt)  # stop like Ctrl-C, so the media core stops with us
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop_scheduler.set()
        stop_sweeper.set()
        follower.stop()
        if media is not None:
            media.terminate()
    return 0
