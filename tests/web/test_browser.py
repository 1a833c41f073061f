"""The web app in a real browser (Debian's Chromium, headless): sign in, see what your role may see,
watch a simulated call arrive on the live view, edit and publish a routing plan, audit trail."""

from __future__ import annotations

import copy
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chalicelib.auth import verify_pin
from chalicelib.callcenter.streams import load_agent
from chalicelib.demo import DEMO_NUMBER
from chalicelib.simulator import Gateway, Script
from domain.tenant import PlanPublished, TenantConfigPatched
from tests.conftest import TOKEN, answer_url
from tests.web.conftest import PASSWORD, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def watching_a_new_call(page, vpbx) -> tuple[str, Gateway, dict[str, str]]:  # type: ignore[no-untyped-def]
    """The supervisor on the live view, and a new call's id, gateway and common webhook parameters."""
    sign_in(page, vpbx, "supervisor@demo.test")
    page.goto(vpbx.url + "/app/#/dashboard")
    page.get_by_role("heading", name="Live").wait_for()
    sid = "CA" + uuid.uuid4().hex
    gw = Gateway(base_url=vpbx.url, public_url=vpbx.url, tenant="demo", auth_token=TOKEN, say=lambda _: None)
    return sid, gw, {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+15550002000", "To": DEMO_NUMBER,
                     "Direction": "inbound", "ApiVersion": "2010-04-01"}


def test_the_live_view_names_who_picked_up_a_ring_group_call(page, vpbx):
    sid, gw, common = watching_a_new_call(page, vpbx)
    # when a caller presses 1 (sales: 101 and 102 ring together) and 102's phone picks up: the gateway
    # fetches 102's answer URL on the new leg; the dial lasts while they talk
    menu = gw.post(f"{vpbx.url}/webhooks/demo/voice", {**common, "CallStatus": "ringing"}).text
    gather = re.findall(r'<Gather action="([^"]+)"', menu)[0].replace("&amp;", "&")
    dial = gw.post(gather, {**common, "CallStatus": "in-progress", "Digits": "1"}).text
    assert gw.post(answer_url(dial, "102"), {**common, "CallSid": "CA" + uuid.uuid4().hex, "CallStatus": "in-progress",
                            "Direction": "outbound-dial", "To": "client:102"}).status_code == 200
    # then the call's row names 102 and rings nobody; supervision (call-center conferences) is not offered
    # (wait for the Agent cell itself: the row says "101, 102" while they ring, which contains "102" too;
    # reading the cells at once raced the dashboard's next refresh)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=sid))
    expect(row.get_by_role("cell").nth(5)).to_have_text("102")
    cells = [c.strip() for c in row.get_by_role("cell").all_inner_texts()]
    assert cells[4:6] == ["", "102"], cells  # Ringing, Agent
    assert page.get_by_role("heading", name="Agents on calls").count() == 0
    shot(page, "dashboard-ring-group")
    # (the call ends, so the live view is empty again for the next test)
    assert gw.post(f"{vpbx.url}/webhooks/demo/status", {**common, "CallStatus": "completed", "SequenceNumber": "5",
                                                        "CallDuration": "30"}).status_code == 200
    expect(page.get_by_role("link", name=sid)).to_have_count(0)


def test_wrong_password_shows_the_error_next_to_the_field_and_keeps_the_email(page, vpbx):
    page.goto(vpbx.url + "/app/")
    page.get_by_label("E-mail").fill("admin@demo.test")
    page.get_by_label("Password").fill("not-it")
    page.get_by_role("button", name="Sign in").click()
    error = page.locator(".field-error")
    error.wait_for()
    assert "wrong e-mail or password" in error.inner_text()
    assert page.get_by_label("E-mail").input_value() == "admin@demo.test"
    shot(page, "signin-error")


def test_a_simulated_call_appears_on_the_live_dashboard(page, vpbx):
    # given the supervisor watching the live view
    sid, gw, common = watching_a_new_call(page, vpbx)
    # when a caller rings the demo number and waits in the IVR menu (no digits yet)
    resp = gw.post(f"{vpbx.url}/webhooks/demo/voice", {**common, "CallStatus": "ringing"})
    assert resp.status_code == 200
    # then, within the auto-refresh, the call shows up with a link to its timeline
    link = page.get_by_role("link", name=sid)
    link.wait_for()
    assert page.get_by_test_id("kpi-calls").inner_text().startswith("1")
    shot(page, "dashboard")
    # and the timeline explains which rule sent it where
    link.click()
    page.get_by_role("heading", name="Why it went where it went").wait_for()
    assert "ivr_menu" in page.locator(".explain").inner_text()
    shot(page, "call-timeline")


def test_an_agent_cannot_see_users_or_configuration_and_the_api_refuses_too(page, vpbx):
    # given an agent signed in
    sign_in(page, vpbx, "agent@demo.test")
    nav = page.get_by_role("navigation", name="Main")
    # then the menu offers their desk but not users, routing or billing
    assert nav.get_by_role("link", name="My desk").is_visible()
    for hidden in ("Users", "Routing", "Billing", "Live"):
        assert nav.get_by_role("link", name=hidden).count() == 0
    # and typing the address of the users page does not help
    page.goto(vpbx.url + "/app/#/users")
    page.get_by_role("heading", name="Not allowed").wait_for()
    # nor does calling the API from the page with the agent's own session
    status = page.evaluate("fetch('/api/v1/users').then(r => r.status)")
    assert status == 403
    status = page.evaluate("fetch('/api/v1/tenants/demo/extensions').then(r => r.status)")
    assert status == 403
    shot(page, "agent-desk-denied")


def test_the_owner_adds_a_user_errors_stay_next_to_the_field_and_the_change_is_audited(page, vpbx):
    sign_in(page, vpbx, "owner@demo.test")
    page.goto(vpbx.url + "/app/#/users")
    form = page.get_by_role("form", name="Add a user")
    form.get_by_label("E-mail").fill("new.agent@demo.test")
    form.get_by_label("Name").fill("New Agent")
    form.get_by_label("First password").fill("short")
    form.get_by_role("button", name="Add user").click()
    # the failed save says what is wrong next to the password field, and keeps what was typed
    form.locator(".field-error").wait_for()
    assert "8 characters" in form.locator(".field-error").inner_text()
    assert form.get_by_label("Name").input_value() == "New Agent"
    form.get_by_label("First password").fill(PASSWORD)
    form.get_by_role("button", name="Add user").click()
    page.get_by_role("cell", name="new.agent@demo.test", exact=True).wait_for()
    shot(page, "users")
    # and the change appears in the audit trail with who did it
    page.goto(vpbx.url + "/app/#/audit")
    page.get_by_text("added user").first.wait_for()
    assert "user:u-owner" in page.locator(".audit").inner_text()
    shot(page, "audit")


def test_the_admin_edits_the_ivr_menu_and_publishes_a_new_plan_version(page, vpbx):
    before = vpbx.services.tenants.get("demo").plans["main"].version
    sign_in(page, vpbx, "admin@demo.test")
    page.goto(vpbx.url + "/app/#/plans")
    tree = page.get_by_label("Plan tree")
    tree.get_by_role("button", name="ivr_menu").click()
    form = page.get_by_role("form", name="Action ivr_menu")
    # a bad value is refused with the problem shown, and the tree marks the node
    timeout = form.get_by_label("timeout", exact=False).first
    timeout.fill("-5")
    page.get_by_role("button", name="Publish").click()
    error = form.locator(".field-error")
    error.wait_for()
    assert "minimum of 1" in error.inner_text()
    assert "invalid" in (tree.get_by_role("button", name="ivr_menu").get_attribute("class") or "")
    assert page.get_by_text("Published version").count() == 0
    shot(page, "plan-editor-invalid")
    timeout.fill("7")
    page.get_by_role("button", name="Publish").click()
    page.get_by_text(f"Published version {before + 1}").wait_for()
    shot(page, "plan-editor")
    assert vpbx.services.tenants.get("demo").plans["main"].version == before + 1
    menu = vpbx.services.tenants.get("demo").plans["main"].document["root"]["children"]["_"]
    assert menu["data"]["timeout"] == 7
    # and, once a support queue is configured, adds "press 3 for the support queue" under the IVR menu,
    # with a form built from the queue schema
    vpbx.services.tenants.append("demo", [TenantConfigPatched(path=["queues"], patch={"support": {
        "name": "Support", "strategy": "linear", "members": ["103"]}}, actor="test")],
        vpbx.services.tenants.get("demo").version)
    form.get_by_label("Branch").fill("3")
    form.get_by_label("Action", exact=True).select_option("queue")
    form.get_by_role("button", name="Add step").click()
    queue_form = page.get_by_role("form", name="Action queue")
    queue_form.get_by_label("queue *").fill("support")
    queue_form.get_by_label("priority").fill("5")
    page.get_by_role("button", name="Publish").click()
    page.get_by_text(f"Published version {before + 2}").wait_for()
    shot(page, "plan-editor-queue")
    menu = vpbx.services.tenants.get("demo").plans["main"].document["root"]["children"]["_"]
    assert menu["children"]["3"]["action"] == "queue"
    assert menu["children"]["3"]["data"] == {"queue": "support", "priority": 5}
    # the version history diffs an old version against the editor
    page.get_by_role("button", name="diff against the editor").first.click()
    assert "/root/children/_/children/3" in page.get_by_label("Differences").inner_text()
    # (the server is shared by this module's tests: take the queue away again)
    vpbx.services.tenants.append("demo", [TenantConfigPatched(path=["queues"], patch={"support": None},
                                                              actor="test")], vpbx.services.tenants.get("demo").version)


PAGES = ["dashboard", "reports", "calls", "plans", "config/numbers", "config/extensions", "config/groups",
         "config/schedules", "config/voicemail-boxes", "lists", "recordings", "users", "audit", "billing", "settings"]


@pytest.mark.parametrize("width,height,label", [(1280, 800, "laptop"), (390, 844, "phone")])
def test_the_owner_sees_every_main_page_at_laptop_and_phone_size(browser, vpbx, width, height, label):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(8000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, vpbx, "owner@demo.test")
    for name in PAGES:
        page.goto(f"{vpbx.url}/app/#/{name}")
        page.locator("h1#page-title").wait_for()
        page.wait_for_load_state("networkidle")
        # every page either shows its data or says honestly what is not available; none crashes
        assert page.locator(".notice.error").count() == 0, f"{name}: {page.locator('.notice.error').first.inner_text()}"
        shot(page, f"{label}-{name.replace('/', '-')}")
    if label == "phone":  # the menu folds away behind a button on a phone
        assert not page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").is_visible()
        page.get_by_role("button", name="Menu").click()
        assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").is_visible()
    assert errors == []
    context.close()


def test_an_agent_logs_in_to_the_queue_pauses_and_the_status_follows(page, vpbx):
    sign_in(page, vpbx, "agent@demo.test")
    page.goto(vpbx.url + "/app/#/agent")
    status = page.get_by_test_id("my-status")
    status.wait_for()
    page.get_by_role("group", name="Set my status").get_by_role("button", name="Log in").click()
    expect(status).to_have_text("available")
    page.get_by_role("group", name="Set my status").get_by_role("button", name="Pause").click()
    expect(status).to_have_text("paused")
    assert load_agent(vpbx.services, "demo", "101")[0].presence(vpbx.services.clock()) == "paused"
    # a bad number is refused next to the field and stays there to be corrected
    page.get_by_label("Number to call").fill("12")
    page.get_by_role("button", name="Call").click()
    page.locator(".field-error").wait_for()
    assert page.get_by_label("Number to call").input_value() == "12"
    shot(page, "agent-desk")


class RecordingGateway(Gateway):
    """The simulator, with recordings stored where the browser can fetch them."""

    recording_url: str = ""

    def post(self, url: str, params: dict[str, str]):  # type: ignore[no-untyped-def]
        if "RecordingUrl" in params:
            params = {**params, "RecordingUrl": self.recording_url}
        return super().post(url, params)


def test_a_caller_leaves_a_voicemail_and_the_admin_plays_it(page, vpbx, recording_server):
    # given a caller who picks sales (1), nobody answers, and they leave a message
    gw = RecordingGateway(base_url=vpbx.url, public_url=vpbx.url, tenant="demo", auth_token=TOKEN, say=lambda _: None)
    gw.recording_url = recording_server
    transcript = gw.call(DEMO_NUMBER, "+15550003000", Script(digits=["1"], dial=["no-answer"], record_seconds=2))
    assert any("recording a message" in line for line in transcript)
    # when the admin opens the voicemail inbox
    sign_in(page, vpbx, "admin@demo.test")
    page.goto(vpbx.url + "/app/#/voicemail")
    message = page.get_by_test_id("voicemail").filter(has_text="+15550003000")
    message.wait_for()
    # then the message plays in the page
    audio = message.locator("audio")
    played = audio.evaluate("a => { a.muted = true; return a.play().then(() => new Promise(r => setTimeout(r, 700)))"
                            ".then(() => ({t: a.currentTime, d: a.duration})) }")
    assert played["t"] > 0 and abs(played["d"] - 2.0) < 0.1
    shot(page, "voicemail")


def box_101(services):  # type: ignore[no-untyped-def]
    """Whether each message in box 101 not deleted was heard, from the projections (caught up with the log)."""
    from chalicelib.projections.follower import catch_up
    from chalicelib.projections.log import projection_store
    from domain.projections.mailboxes import marks_of

    catch_up(services)
    out = projection_store(services)
    marks = marks_of(out.rows("mailboxes", "demo"))
    done = [marks.get(c["voicemail"]["event"], set()) for c in out.states("calls", "demo")
            if c.get("voicemail") and c["voicemail"]["box"] == "101"]
    return ["heard" in d for d in done if "deleted" not in d]


def test_an_agent_hears_a_new_message_which_is_then_saved_deletes_it_and_sets_a_pin(page, vpbx, recording_server):
    # given 102's app rang 101 (Sam, the demo agent), nobody answered and a message was left in box 101
    gw = RecordingGateway(base_url=vpbx.url, public_url=vpbx.url, tenant="demo", auth_token=TOKEN, say=lambda _: None)
    gw.recording_url = recording_server
    transcript = gw.call("101", "client:102", Script(dial=["no-answer"], record_seconds=2))
    assert any("recording a message" in line for line in transcript)
    # when Sam opens his voicemail, the message is new
    sign_in(page, vpbx, "agent@demo.test")
    page.goto(vpbx.url + "/app/#/voicemail")
    message = page.get_by_test_id("voicemail").filter(has_text="client:102")
    message.get_by_test_id("new").wait_for()
    # then playing it marks it heard (the badge goes, for the phone's *97 too)
    message.locator("audio").evaluate("a => { a.muted = true; return a.play() }")
    expect(message.get_by_test_id("new")).to_have_count(0)
    assert box_101(vpbx.services) == [True]
    # and Delete removes it from the inbox and from the mailbox
    message.get_by_role("button", name="Delete the message from client:102").click()
    expect(page.get_by_test_id("voicemail")).to_have_count(0)
    assert box_101(vpbx.services) == []
    # and he sets his box's PIN for the phone: an easy one is refused with the reason, a good one is saved
    form = page.get_by_role("form", name="My voicemail PIN")
    form.get_by_label("My voicemail PIN").fill("1111")
    form.get_by_role("button", name="Set PIN").click()
    expect(form.get_by_role("status")).to_contain_text("one digit repeated")
    form.get_by_label("My voicemail PIN").fill("2468")
    form.get_by_role("button", name="Set PIN").click()
    expect(form.get_by_role("status")).to_have_text("PIN saved.")
    assert verify_pin(vpbx.services.tenants.get("demo").config["voicemail_boxes"]["101"]["pin_hash"], "2468")


def test_a_failed_configuration_save_shows_the_error_by_the_field_and_keeps_the_input(page, vpbx):
    sign_in(page, vpbx, "admin@demo.test")
    page.goto(vpbx.url + "/app/#/config/voicemail-boxes")
    page.get_by_role("row", name="sales").get_by_role("button", name="Edit").click()
    form = page.get_by_role("form", name="Edit sales")
    email = form.get_by_label("email", exact=False).first
    email.fill("not-an-address")
    form.get_by_role("button", name="Save").click()
    form.locator(".field-error").first.wait_for()
    assert email.input_value() == "not-an-address"
    assert email.get_attribute("aria-invalid") == "true"
    shot(page, "config-error")
    email.fill("sales-team@demo.test")
    form.get_by_role("button", name="Save").click()
    page.get_by_text("Saved sales.").wait_for()
    assert vpbx.services.tenants.get("demo").config["voicemail_boxes"]["sales"]["email"] == "sales-team@demo.test"


def test_the_analyst_searches_the_call_log_and_exports_it_as_csv(page, vpbx):
    # given a finished call from a distinctive number
    gw = Gateway(base_url=vpbx.url, public_url=vpbx.url, tenant="demo", auth_token=TOKEN, say=lambda _: None)
    gw.call(DEMO_NUMBER, "+15550004444", Script(digits=["2"], dial=["no-answer"], record_seconds=3))
    sign_in(page, vpbx, "analyst@demo.test")
    # when the analyst searches the call log for that number
    page.goto(vpbx.url + "/app/#/calls")
    page.get_by_label("Search by number, extension or call id").fill("+15550004444")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(1)
    assert "+15550004444" in rows.first.inner_text()
    shot(page, "call-log")
    # then the CSV export holds exactly that call
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    text = Path(download.value.path()).read_text()
    lines = text.strip().splitlines()
    assert lines[0].startswith("sid,") and len(lines) == 2 and "+15550004444" in lines[1]
    # and a sales call the simulated gateway connected to 101 (the first device of the ring group to pick
    # up: it fetched 101's answer URL) says who answered
    gw.call(DEMO_NUMBER, "+15550004445", Script(digits=["1"], dial=["completed"]))
    page.get_by_label("Search by number, extension or call id").fill("+15550004445")
    page.get_by_role("button", name="Search").click()
    answered = page.locator("main table tbody tr").filter(has_text="+15550004445")
    expect(answered).to_have_count(1)
    headers = page.locator("main table thead th").all_inner_texts()
    cells = answered.locator("td").all_inner_texts()
    assert cells[headers.index("Answered by")].strip() == "101" and cells[headers.index("Result")] == "answered"
    # and the analyst has no routing or user administration
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Routing").count() == 0 and nav.get_by_role("link", name="Users").count() == 0


def test_the_admin_changes_the_company_timezone_with_the_error_shown_by_the_field(page, vpbx):
    sign_in(page, vpbx, "admin@demo.test")
    page.goto(vpbx.url + "/app/#/settings")
    company = page.get_by_role("region", name="Company")
    timezone = company.get_by_label("timezone")
    timezone.fill("Mars/Olympus")
    company.get_by_role("button", name="Save").click()
    company.locator(".field-error").wait_for()
    assert timezone.input_value() == "Mars/Olympus"
    timezone.fill("Europe/Moscow")
    company.get_by_role("button", name="Save").click()
    company.get_by_text("Saved.").wait_for()
    assert vpbx.services.tenants.get("demo").timezone == "Europe/Moscow"
    shot(page, "settings-company")
    timezone.fill("America/New_York")  # leave the module's tenant as it was
    company.get_by_role("button", name="Save").click()
    company.get_by_text("Saved.").wait_for()


def test_a_caller_waiting_in_a_queue_shows_on_the_live_dashboard_with_the_wait(page, vpbx):
    # given a support queue (configured directly through the tenant's events)
    # behind "press 3", with its only agent logged out so callers wait
    services = vpbx.services
    snapshot = services.tenants.get("demo")
    queue = {"name": "Support", "strategy": "linear", "members": ["103"], "ring_seconds": 15, "max_misses": 2,
             "wrapup_seconds": 30, "callback_key": "1", "exit_key": "*", "loop_seconds": 20}
    document = copy.deepcopy(dict(snapshot.plans["main"].document))
    document["root"]["children"]["_"]["children"]["3"] = {"id": "support-queue", "action": "queue",
                                                          "data": {"queue": "support"}}
    services.tenants.append("demo", [TenantConfigPatched(path=["queues"], patch={"support": queue}, actor="test"),
                                     PlanPublished(plan_id="main", version=snapshot.plans["main"].version + 1,
                                                   document=document, actor="test")], snapshot.version)
    # when a caller presses 3 and is put on hold in the queue
    sid = "CA" + uuid.uuid4().hex
    gw = Gateway(base_url=vpbx.url, public_url=vpbx.url, tenant="demo", auth_token=TOKEN, say=lambda _: None)
    common = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+15550005555", "To": DEMO_NUMBER,
              "Direction": "inbound", "ApiVersion": "2010-04-01"}
    menu = gw.post(f"{vpbx.url}/webhooks/demo/voice", {**common, "CallStatus": "ringing"})
    action = re.search(r'action="([^"]+)"', menu.text).group(1).replace("&amp;", "&")
    to_queue = gw.post(action, {**common, "CallStatus": "in-progress", "Digits": "3"})
    redirect = re.search(r"<Redirect[^>]*>([^<]+)</Redirect>", to_queue.text).group(1).replace("&amp;", "&")
    held = gw.post(redirect, {**common, "CallStatus": "in-progress"})
    assert held.status_code == 200
    # then the supervisor's live view shows the queue with one caller waiting and a longest wait
    sign_in(page, vpbx, "supervisor@demo.test")
    page.goto(vpbx.url + "/app/#/dashboard")
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="support", exact=True))
    row.wait_for()
    expect(row.locator("td").nth(1)).to_have_text("1")
    expect(row.locator("td").nth(3)).to_have_text(re.compile(r"^\d+s$|^\dm"))
    assert page.get_by_role("link", name=sid).is_visible()
    shot(page, "dashboard-queue")


def test_days_and_times_are_the_companys_not_utc_nor_the_browsers(page, vpbx):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    # given a company in Tokyo (UTC+9, no DST), whatever zone the browser runs in
    zone = "Asia/Tokyo"
    tenants = vpbx.services.tenants
    before = tenants.get("demo").timezone
    tenants.append("demo", [TenantConfigPatched(path=[], patch={"timezone": zone}, actor="test")],
                   tenants.get("demo").version)
    try:
        sid = "CA" + uuid.uuid4().hex
        gw = Gateway(base_url=vpbx.url, public_url=vpbx.url, tenant="demo", auth_token=TOKEN, say=lambda _: None)
        gw.call(DEMO_NUMBER, "+15550007777", Script(digits=["2"], dial=["no-answer"], record_seconds=2), call_sid=sid)
        started = vpbx.services.store.load(f"call-{sid}")[0][0].occurred_at
        local = datetime.fromisoformat(started).astimezone(ZoneInfo(zone))
        sign_in(page, vpbx, "admin@demo.test")
        # when the admin opens the call's timeline
        page.goto(f"{vpbx.url}/app/#/calls/{sid}")
        page.get_by_role("heading", name="Why it went where it went").wait_for()
        # then the start is shown in the company's zone, named, and so are the step times
        header = page.locator("main p").first.inner_text()
        assert local.strftime("%Y-%m-%d %H:%M:%S") in header and f"({zone})" in header
        first_step = page.locator(".explain li time").first.inner_text()
        assert first_step == local.strftime("%H:%M:%S")
        # and "Today" in the call log is the company's day: at 15:30 UTC it is already tomorrow in Tokyo
        page.clock.set_fixed_time("2026-11-26T15:30:00Z")
        page.goto(f"{vpbx.url}/app/#/calls")
        page.get_by_label("Period").select_option("1")
        with page.expect_request(lambda r: "/cdrs?" in r.url) as request:
            page.get_by_role("button", name="Search").click()
        assert "from=2026-11-27&to=2026-11-27" in request.value.url
    finally:
        tenants.append("demo", [TenantConfigPatched(path=[], patch={"timezone": before}, actor="test")],
                       tenants.get("demo").version)
