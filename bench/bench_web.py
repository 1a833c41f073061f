"""Web app benchmark (issue 8): is the live dashboard usable within 1 s on localhost with 1,000 calls today?

Seeds 1,000 inbound calls today through the real webhook shell (950 finished, 50 still in the IVR),
serves vpbx on a free localhost port, then measures:
1. the API answers the dashboard and reports need (/live, /cdrs, /stats/kpis), p50/max over runs;
2. in Debian's Chromium (if installed): time from navigating to /app/#/dashboard, signed in, until the
   calls-in-progress table shows the 50 open calls (page load + JS + first /live answer + render),
   cold (new browser context) and warm;
3. the gzipped bundle size.
Prints figures only; not a timed test.
"""

from __future__ import annotations

import gzip
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

import requests  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402

from chalicelib import users  # noqa: E402
from chalicelib.bootstrap import bootstrap, set_services  # noqa: E402
from chalicelib.calls import handle_webhook  # noqa: E402
from chalicelib.demo import DEMO_NUMBER, seed_demo  # noqa: E402
from chalicelib.demo.users import seed_demo_users  # noqa: E402
from chalicelib.server import make_server  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402
from chalicelib.signatures import public_url, twilio_signature  # noqa: E402
from chalicelib.stores.sqlite import SQLiteEventStore  # noqa: E402

TOKEN, PASSWORD = "bench-token", "bench-password"
CALLS, OPEN = 1000, 50
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(svc, base: str, endpoint: str, params: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    url = public_url(base, f"/webhooks/demo/{endpoint}", {})
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, url, params.items())}
    resp = handle_webhook(svc, tenant_id="demo", endpoint=endpoint, query={}, headers=headers,
                          body=urlencode(params).encode(), content_type="application/x-www-form-urlencoded")
    assert resp.status == 200, resp.body


def seed_calls(svc, base: str) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    for i in range(CALLS):
        sid = "CA" + uuid.uuid4().hex
        common = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": f"+1555010{i % 1000:04d}",
                  "To": DEMO_NUMBER, "Direction": "inbound", "ApiVersion": "2010-04-01"}
        post(svc, base, "voice", {**common, "CallStatus": "ringing"})
        if i >= OPEN:
            post(svc, base, "status", {**common, "CallStatus": "completed", "CallDuration": "42", "SequenceNumber": "5"})
    return time.perf_counter() - t0


def timed(fn, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), max(samples)


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(public_url=base, sqlite_path=str(tmp / "web.sqlite"), demo_auth_token=TOKEN,
                        blob_dir=str(tmp / "blobs"))
    svc = bootstrap(settings, SQLiteEventStore(settings.sqlite_path))
    seed_demo(svc.tenants, TOKEN)
    users.set_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    seed_demo_users(svc, PASSWORD)
    set_services(svc)
    seconds = seed_calls(svc, base)
    print(f"seeded {CALLS} calls today ({OPEN} still in progress) through the webhook shell in {seconds:.1f} s")

    server = make_server("127.0.0.1", port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    http = requests.Session()
    assert http.post(base + "/api/v1/auth/login", json={"email": "admin@demo.test", "password": PASSWORD}).ok
    # the first request brings the projections up to date (catch-up over 1,000 calls' events)
    t0 = time.perf_counter()
    live = http.get(base + "/api/v1/tenants/demo/live").json()
    print(f"first /live after seeding (projection catch-up):  {1000 * (time.perf_counter() - t0):7.1f} ms, "
          f"{sum(1 for c in live['calls'] if not c['ended'])} calls in progress")
    count = http.get(base + "/api/v1/tenants/demo/cdrs").json()["count"]
    print(f"call records today: {count}")
    for name, path in [("live", "/api/v1/tenants/demo/live"), ("cdrs today (1,000 rows)", "/api/v1/tenants/demo/cdrs"),
                       ("stats/kpis today", "/api/v1/tenants/demo/stats/kpis"), ("app index", "/app/")]:
        p50, worst = timed(lambda path=path: http.get(base + path).raise_for_status(), 20)
        print(f"GET {name:<28} p50 {1000 * p50:7.1f} ms   max {1000 * worst:7.1f} ms")

    dist = ROOT / "web" / "dist"
    if (dist / "index.html").exists():
        total = sum(len(gzip.compress(f.read_bytes(), 9)) for f in [dist / "index.html", *(dist / "assets").iterdir()])
        print(f"bundle: {total / 1024:.1f} KB gzipped (budget 300 KB)")
    if not Path(CHROMIUM).exists() or not (dist / "index.html").exists():
        print("browser timing skipped: needs /usr/bin/chromium (infra/setup.d/40-chromium.sh) and web/dist (make web)")
        server.shutdown()
        return 0
    from playwright.sync_api import sync_playwright

    args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        cookies = [{"name": k, "value": v, "url": base} for k, v in http.cookies.items()]
        results = []
        for _ in range(6):
            ctx = browser.new_context()
            ctx.add_cookies(cookies)
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto(base + "/app/#/dashboard")
            page.locator("main table tbody tr").nth(OPEN - 1).wait_for()
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            page.reload()
            page.locator("main table tbody tr").nth(OPEN - 1).wait_for()
            warm = time.perf_counter() - t0
            results.append((cold, warm))
            ctx.close()
        browser.close()
    colds, warms = [r[0] for r in results[1:]], [r[1] for r in results[1:]]  # first run warms Chromium itself
    print(f"dashboard usable in Chromium (nav -> {OPEN} live calls rendered): "
          f"new context p50 {1000 * statistics.median(colds):.0f} ms (max {1000 * max(colds):.0f}), "
          f"reload p50 {1000 * statistics.median(warms):.0f} ms (max {1000 * max(warms):.0f}); target < 1000 ms")
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
