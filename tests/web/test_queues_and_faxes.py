"""The Queues page creates call-center queues through the configuration API; the Faxes page lists received
faxes (FaxReceived media events) with links to the PDF and page images, served by the running vpbx."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from chalicelib.blobs import blob_store
from chalicelib.demo import DEMO_NUMBER
from chalicelib.simulator import Gateway
from domain.callcenter.config import Member, queue_config
from tests.conftest import TOKEN
from tests.web.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

FAX_CALL = "CA" + "fa".rjust(32, "0")  # one fax call per server (the fixture is per module)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def test_the_admin_creates_a_queue_with_errors_by_the_field_first(page, vpbx):
    sign_in(page, vpbx, "admin@demo.test")
    held = []  # the API description (the forms' schemas) is held back until the admin has pressed Add
    page.route("**/api/v1/openapi.json", lambda route: held.append(route))
    page.goto(vpbx.url + "/app/#/config/queues")
    page.get_by_role("heading", name="Queues").wait_for()
    page.get_by_text("None yet.").wait_for()
    # when the admin adds a queue whose members include an extension that does not exist
    page.get_by_role("button", name="Add").click()
    form = page.get_by_role("form", name="New item")
    form.get_by_label("Id").fill("support")
    # (the form starts with the call center's defaults, filled in when the schema arrives, even after Add;
    # before, a form opened first stayed without them)
    assert held, "the page asked for the API description"
    for route in held:
        route.continue_()
    page.unroute("**/api/v1/openapi.json")
    expect(form.get_by_label("ring seconds")).to_have_value("15")
    assert form.get_by_label("Id").input_value() == "support"
    expect(form.get_by_label("join empty")).to_be_checked()
    form.get_by_label("Id").fill("support")
    form.get_by_label("name", exact=True).fill("Support")
    form.get_by_label("strategy").select_option("ring_all")
    members = form.get_by_label("members (JSON)")
    members.fill('["101", {"agent": "999", "penalty": 1}]')
    form.get_by_label("max wait").fill("300")
    form.get_by_role("button", name="Save").click()
    # then the missing extension is named, the input is kept and nothing is stored
    form.get_by_text("no extension '999'").wait_for()
    assert members.input_value() == '["101", {"agent": "999", "penalty": 1}]'
    assert queue_config(vpbx.services.tenants.get("demo"), "support") is None
    shot(page, "queues-error")
    # when the member is corrected and saved again
    members.fill('["101", {"agent": "102", "penalty": 1}]')
    form.get_by_role("button", name="Save").click()
    page.get_by_text("Saved support.").wait_for()
    # then the queue is listed and the call center reads it as typed
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="support", exact=True))
    assert "ring_all" in row.inner_text()
    cfg = queue_config(vpbx.services.tenants.get("demo"), "support")
    assert cfg is not None and (cfg.name, cfg.strategy, cfg.max_wait) == ("Support", "ring_all", 300)
    assert cfg.members == (Member("101"), Member("102", 1))
    shot(page, "queues-created")


def test_a_received_fax_is_listed_with_its_pdf_and_page_images(page, vpbx):
    # given a fax call, its files in the blob store, and the media core's FaxReceived posted over HTTP
    services = vpbx.services
    gateway = Gateway(base_url=vpbx.url, public_url=vpbx.url, tenant="demo", auth_token=TOKEN, say=lambda _: None)
    answered = gateway.post(f"{vpbx.url}/webhooks/demo/voice", {
        "CallSid": FAX_CALL, "AccountSid": "AC" + "0" * 32, "From": "+15550003000", "To": DEMO_NUMBER,
        "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"})
    assert answered.status_code == 200
    base = f"fax/demo/{FAX_CALL}"
    store = blob_store(services.settings)
    store.put(f"{base}/fax.pdf", PDF, content_type="application/pdf")
    store.put(f"{base}/page-1.png", PNG, content_type="image/png")
    event = {"event_id": f"fax-{FAX_CALL}", "tenant_id": "demo", "call_sid": FAX_CALL, "event_type": "FaxReceived",
             "data": {"pages": 1, "sender_id": "ACME FAX", "bad_lines": 0, "completed": True,
                      "blob_keys": {"pdf": f"{base}/fax.pdf", "tiff": f"{base}/fax.tiff",
                                    "png": [f"{base}/page-1.png"]}}}
    request = urllib.request.Request(vpbx.url + "/media/events", data=json.dumps(event).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {services.settings.media_token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    # when the admin opens the Faxes page
    sign_in(page, vpbx, "admin@demo.test")
    page.goto(vpbx.url + "/app/#/faxes")
    fax = page.get_by_test_id("fax")
    fax.wait_for()
    # then it shows the caller, the sender's fax id and the page count
    text = fax.inner_text()
    assert "+15550003000" in text and "ACME FAX" in text and "1 page" in text
    shot(page, "faxes")
    # and its PDF and page links download the stored files with the signed-in session
    pdf_href = fax.get_by_role("link", name="PDF").get_attribute("href")
    pdf = page.request.get(vpbx.url + pdf_href, headers={"Accept": "application/pdf"})
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body() == PDF
    png_href = fax.get_by_role("link", name="page 1").get_attribute("href")
    png = page.request.get(vpbx.url + png_href, headers={"Accept": "image/png"})
    assert png.status == 200 and png.body() == PNG
    # and an agent (no faxes.read) is refused the file
    agent = page.context.browser.new_context()
    agent_page = agent.new_page()
    sign_in(agent_page, vpbx, "agent@demo.test")
    assert agent_page.request.get(vpbx.url + pdf_href, headers={"Accept": "application/pdf"}).status == 403
    agent.close()
