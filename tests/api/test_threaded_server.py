"""`vpbx serve` answers requests on threads: each request must see its own headers and body.

Chalice keeps ``app.current_request`` on the app object (one request per Lambda process); the
threaded local server must not let a request read another's Authorization header.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from chalicelib.server import make_server
from tests.conftest import free_port


def test_concurrent_requests_of_two_tenants_never_see_each_others_credentials(api, other_api):
    # given the embedded server on a free port
    port = free_port()
    server = make_server("127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}/api/v1/tenants"
    try:
        def read(i: int) -> int:
            who = api if i % 2 else other_api
            return requests.get(f"{base}/{who.tenant}/settings", headers={"Authorization": f"Bearer {who.key}"},
                                timeout=10).status_code

        # when both tenants read their own settings at the same time, many times
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(read, range(200)))
        # then every request was judged by its own key
        assert statuses == [200] * 200
    finally:
        server.shutdown()
        server.server.server_close()
