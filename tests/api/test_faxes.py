"""The received-fax inbox: FaxReceived media events listed newest first, their PDF and pages downloaded."""

from __future__ import annotations

import json

from chalicelib.blobs import blob_store
from tests.api.conftest import Api, body
from tests.conftest import Gateway, call_params

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
FAX1 = "CA" + "f1".rjust(32, "0")
NOPE = "CA" + "e0".rjust(32, "0")
OLD = "CA" + "01d".rjust(32, "0")
NEW = "CA" + "ae1".rjust(32, "0")
GONE = "CA" + "90e".rjust(32, "0")
DEMO = "CA" + "de".rjust(32, "0")
ACME = "CA" + "ac".rjust(32, "0")
SPOOF = "CA" + "5f".rjust(32, "0")
OTHER_CALL = "CA" + "99".rjust(32, "0")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def receive_fax(api: Api, services, call_sid: str, *, pages: int = 2, tenant: str = "demo",
                sender: str = "+1 555 000 3000", event_id: str = "") -> dict:
    """A fax call arrives, the media core stores its files and posts FaxReceived (as media_core/fax does)."""
    token = "other-token" if tenant != "demo" else None
    gateway = Gateway(services, tenant=tenant, token=token) if token else Gateway(services)
    assert gateway.post("voice", call_params(call_sid, From="+15550003000")).status == 200
    base = f"fax/{tenant}/{call_sid}"
    keys = {"pdf": f"{base}/fax.pdf", "tiff": f"{base}/fax.tiff", "png": [f"{base}/page-{i}.png"
                                                                          for i in range(1, pages + 1)]}
    store = blob_store(services.settings)
    store.put(keys["pdf"], PDF + call_sid.encode(), content_type="application/pdf")
    for i, key in enumerate(keys["png"], 1):
        store.put(key, PNG + bytes([i]), content_type="image/png")
    doc = {"event_id": event_id or f"fax-{call_sid}", "tenant_id": tenant, "call_sid": call_sid,
           "conference": None, "event_type": "FaxReceived", "occurred_at": "2026-11-24T15:00:00Z",
           "data": {"pages": pages, "sender_id": sender, "blob_keys": keys, "bad_lines": 3,
                    "resolution": "fine", "encoding": "T.4 2D", "ecm": True, "completed": True}}
    auth = {"Content-Type": "application/json", "Authorization": f"Bearer {services.settings.media_token}"}
    posted = api.client.http.post("/media/events", headers=auth, body=json.dumps(doc))
    assert posted.status_code in (200, 201), posted.body
    return keys


def test_a_received_fax_is_listed_and_its_pdf_and_pages_download(api: Api, services):
    # given a fax received on call FAX1
    receive_fax(api, services, FAX1)
    # when the inbox is listed
    listed = api.get("/faxes")
    assert listed.status_code == 200, listed.body
    [fax] = body(listed)["items"]
    # then it names the caller, the sender id, the pages and where the files are
    assert fax["call_sid"] == FAX1 and fax["from"] == "+15550003000" and fax["to"] == "+15550001000"
    assert (fax["sender_id"], fax["pages"], fax["bad_lines"], fax["ecm"]) == ("+1 555 000 3000", 2, 3, True)
    assert fax["pdf_url"] == f"/api/v1/tenants/demo/faxes/{FAX1}/pdf"
    assert fax["page_urls"] == [f"/api/v1/tenants/demo/faxes/{FAX1}/pages/1", f"/api/v1/tenants/demo/faxes/{FAX1}/pages/2"]
    # and the PDF is the stored file
    pdf = api.call("GET", fax["pdf_url"], headers={"Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.body == PDF + FAX1.encode()
    page = api.call("GET", fax["page_urls"][1], headers={"Accept": "*/*"})
    assert page.status_code == 200 and page.headers["Content-Type"] == "image/png" and page.body == PNG + b"\x02"
    # and pages or faxes that do not exist are 404
    assert api.get(f"/faxes/{FAX1}/pages/3").status_code == 404
    assert api.get(f"/faxes/{NOPE}/pdf").status_code == 404


def test_the_inbox_is_newest_first_filtered_by_day_and_follows_new_events(api: Api, services, clock):
    # given a fax today, then (read once), a fax two days later, then the same event redelivered
    receive_fax(api, services, OLD)
    assert [f["call_sid"] for f in body(api.get("/faxes"))["items"]] == [OLD]
    clock.advance(2 * 86400)
    receive_fax(api, services, NEW, pages=1)
    receive_fax(api, services, NEW, pages=1)  # the media core posts it again (same event id): a redelivery
    # when listed: newest first, each fax once
    assert [f["call_sid"] for f in body(api.get("/faxes"))["items"]] == [NEW, OLD]
    # and filtered by the tenant's local day
    assert [f["call_sid"] for f in body(api.get("/faxes?from=2026-11-25"))["items"]] == [NEW]
    assert [f["call_sid"] for f in body(api.get("/faxes?to=2026-11-24"))["items"]] == [OLD]
    assert body(api.get("/faxes?from=2026-11-27"))["items"] == []
    bad = api.get("/faxes?from=yesterday")
    assert bad.status_code == 400 and body(bad)["errors"][0]["pointer"] == "/query/from"
    assert api.get("/faxes?from=2026-11-26&to=2026-11-24").status_code == 400


def test_a_missing_pdf_blob_is_404_not_a_crash(api: Api, services):
    keys = receive_fax(api, services, GONE)
    blob_store(services.settings).delete(keys["pdf"])
    response = api.get(f"/faxes/{GONE}/pdf")
    assert response.status_code == 404 and "missing" in body(response)["errors"][0]["message"]


def test_another_tenant_gets_403_and_sees_only_its_own_faxes(api: Api, other_api: Api, services):
    receive_fax(api, services, DEMO)
    receive_fax(other_api, services, ACME, tenant="acme")
    # a key of acme cannot read demo's inbox or files
    assert other_api.get("/api/v1/tenants/demo/faxes").status_code == 403
    assert other_api.get(f"/api/v1/tenants/demo/faxes/{DEMO}/pdf").status_code == 403
    assert other_api.get(f"/api/v1/tenants/demo/faxes/{DEMO}/pages/1").status_code == 403
    # and each inbox holds only its tenant's faxes
    assert [f["call_sid"] for f in body(other_api.get("/faxes"))["items"]] == [ACME]
    assert [f["call_sid"] for f in body(api.get("/faxes"))["items"]] == [DEMO]
    # a demo key naming acme's fax under demo finds nothing
    assert api.get(f"/faxes/{ACME}/pdf").status_code == 404


def test_a_media_event_pointing_at_another_tenants_files_is_not_served(api: Api, services):
    # given a FaxReceived on a demo call whose blob key lies under another tenant's prefix
    blob_store(services.settings).put(f"fax/acme/{OTHER_CALL}/fax.pdf", PDF, content_type="application/pdf")
    assert Gateway(services).post("voice", call_params(SPOOF)).status == 200
    doc = {"event_id": "spoof", "tenant_id": "demo", "call_sid": SPOOF, "event_type": "FaxReceived",
           "data": {"pages": 1, "blob_keys": {"pdf": f"fax/acme/{OTHER_CALL}/fax.pdf", "png": []}}}
    auth = {"Content-Type": "application/json", "Authorization": f"Bearer {services.settings.media_token}"}
    assert api.client.http.post("/media/events", headers=auth, body=json.dumps(doc)).status_code == 201
    # then the PDF is not served
    assert api.get(f"/faxes/{SPOOF}/pdf").status_code == 404


def test_listing_reads_only_the_recent_events_not_the_whole_log(api: Api, services, clock, monkeypatch):
    # given a tenant log with 20 calls and two faxes a minute apart, listed after each
    receive_fax(api, services, OLD)
    for i in range(20):
        Gateway(services).post("voice", call_params("CA" + f"{i:x}".rjust(32, "0")))
    assert len(body(api.get("/faxes"))["items"]) == 1
    clock.advance(60)
    receive_fax(api, services, NEW, pages=1)
    assert len(body(api.get("/faxes"))["items"]) == 2
    log_size = len(services.store.read_log("demo", limit=100000))
    read: list[int] = []
    original = services.store.read_log

    def counting(tenant_id, after="", limit=1000):
        batch = original(tenant_id, after=after, limit=limit)
        read.append(len(batch))
        return batch

    monkeypatch.setattr(services.store, "read_log", counting)
    # when a minute later a third fax arrives and the inbox is listed
    clock.advance(60)
    receive_fax(api, services, GONE, pages=1)
    assert [f["call_sid"] for f in body(api.get("/faxes"))["items"]] == [GONE, NEW, OLD]
    # then the request read the new events and those of the previous batch again (stores ordered by
    # time may show a late event: the tail re-reads its last seconds), not the whole log
    new_events = len(original("demo", limit=100000)) - log_size
    assert new_events <= sum(read) <= 3 * new_events < log_size
