"""CRM owner lookup hook: ask a tenant's CRM who owns a caller, within a hard deadline.

Invariant: this never raises and never takes longer than the deadline; every failure comes back
as ``{"error": ...}`` so routing falls back to the normal branch.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

DEFAULT_TIMEOUT = 1.5
MAX_BODY = 64 * 1024


def _fetch(url: str, caller: str, timeout: float, out: dict[str, Any]) -> None:
    sep = "&" if "?" in url else "?"
    request = urllib.request.Request(url + sep + urlencode({"caller": caller}),
                                     headers={"Accept": "application/json", "User-Agent": "vpbx-crm-lookup"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 (tenant-configured URL)
            body = resp.read(MAX_BODY)
        doc = json.loads(body)
        owner = doc.get("owner") if isinstance(doc, dict) else None
        if isinstance(owner, dict):
            owner = owner.get("extension")
        if owner in (None, ""):
            out["result"] = {"owner": None}
        elif isinstance(owner, str | int) and str(owner).isalnum():
            out["result"] = {"owner": str(owner)}
        else:
            out["result"] = {"error": f"bad response: owner {owner!r} is not an extension"}
    except urllib.error.HTTPError as exc:
        out["result"] = {"error": f"http {exc.code}"}
    except (TimeoutError, OSError) as exc:
        out["result"] = {"error": f"unreachable: {exc.__class__.__name__}"}
    except ValueError:
        out["result"] = {"error": "bad response: not JSON"}


def lookup_owner(url: str, caller: str, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """``{"owner": ext | None}`` or ``{"error": why}``; returns within ``timeout`` seconds."""
    out: dict[str, Any] = {}
    worker = threading.Thread(target=_fetch, args=(url, caller, timeout, out), daemon=True)
    worker.start()
    worker.join(timeout)
    result = out.get("result")
    return dict(result) if isinstance(result, dict) else {"error": f"timeout after {timeout:g}s"}
