"""Signing in with e-mail and password: sessions in HttpOnly cookies, lockout, TOTP, CSRF."""

from __future__ import annotations

import pyotp

from chalicelib.users import MAX_FAILURES, users_of
from tests.access.conftest import PASSWORD, Caller, _set_cookies


def test_sign_in_sets_an_httponly_lax_session_cookie_and_a_readable_csrf_cookie(accounts, client):
    # given the demo owner
    caller = Caller(client)
    # when they sign in with the right password
    resp = caller.sign_in("owner@demo.test")
    # then the session cookie is HttpOnly and SameSite=Lax, the CSRF cookie is readable by the page
    assert resp.status_code == 200
    cookies = _set_cookies(resp.headers)
    session = next(c for c in cookies if c.startswith("vpbx_session="))
    csrf = next(c for c in cookies if c.startswith("vpbx_csrf="))
    assert "HttpOnly" in session and "SameSite=Lax" in session
    assert "HttpOnly" not in csrf
    # and "who am I" answers with the role and its permissions, never the password hash
    status, me = caller.json("GET", "/api/v1/auth/me")
    assert status == 200 and me["user"]["role"] == "owner" and "users.manage" in me["permissions"]
    assert "password" not in str(me) and me["csrf"] == caller.cookies["vpbx_csrf"]


def test_wrong_password_and_unknown_email_get_the_same_answer(accounts, client):
    wrong = Caller(client).sign_in("owner@demo.test", "not the password")
    unknown = Caller(client).sign_in("nobody@demo.test", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json_body == unknown.json_body


def test_account_locks_after_repeated_failures_even_with_the_right_password(accounts, client, clock):
    # given MAX_FAILURES wrong passwords
    for _ in range(MAX_FAILURES):
        assert Caller(client).sign_in("admin@demo.test", "guess").status_code == 401
    # when the right password follows at once
    resp = Caller(client).sign_in("admin@demo.test")
    # then the account is locked, with a Retry-After
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    # and after the lockout window it works again
    clock.advance(15 * 60 + 1)
    assert Caller(client).sign_in("admin@demo.test").status_code == 200


def test_a_success_resets_the_failure_count(accounts, client):
    for _ in range(MAX_FAILURES - 1):
        Caller(client).sign_in("agent@demo.test", "guess")
    assert Caller(client).sign_in("agent@demo.test").status_code == 200
    for _ in range(MAX_FAILURES - 1):
        Caller(client).sign_in("agent@demo.test", "guess")
    assert Caller(client).sign_in("agent@demo.test").status_code == 200


def test_unsafe_requests_need_the_csrf_header(as_role):
    # given a signed-in owner whose page does not send the CSRF header
    owner = as_role("owner")
    owner.csrf = False
    # when it tries to add a user
    status, body = owner.json("POST", "/api/v1/users", {"email": "x@demo.test", "name": "X", "role": "agent",
                                                        "password": PASSWORD})
    # then it is refused as a CSRF failure; with the header the same request works
    assert status == 403 and "CSRF" in body["message"]
    owner.csrf = True
    status, body = owner.json("POST", "/api/v1/users", {"email": "x@demo.test", "name": "X", "role": "agent",
                                                        "password": PASSWORD})
    assert status == 201 and body["role"] == "agent"


def test_a_csrf_header_that_matches_a_forged_cookie_but_not_the_session_is_refused(as_role):
    owner = as_role("owner")
    owner.cookies["vpbx_csrf"] = "forged"
    status, _ = owner.json("POST", "/api/v1/auth/logout")
    assert status == 403


def test_sign_out_ends_the_session_on_the_server(as_role):
    owner = as_role("owner")
    stolen = dict(owner.cookies)
    assert owner.json("POST", "/api/v1/auth/logout")[0] == 200
    replay = Caller(owner.client, cookies=stolen)
    assert replay.json("GET", "/api/v1/auth/me")[0] == 401


def test_totp_is_asked_for_once_enabled(as_role, accounts, clock):
    # given the analyst turns on two-factor sign-in
    analyst = as_role("analyst")
    status, setup = analyst.json("POST", "/api/v1/auth/totp")
    assert status == 200 and setup["uri"].startswith("otpauth://")
    code = pyotp.TOTP(setup["secret"]).at(clock())
    assert analyst.json("POST", "/api/v1/auth/totp/confirm", {"secret": setup["secret"], "code": "000000"})[0] == 400
    assert analyst.json("POST", "/api/v1/auth/totp/confirm", {"secret": setup["secret"], "code": code})[0] == 200
    # when they sign in again with the password alone
    first = Caller(analyst.client).sign_in("analyst@demo.test")
    # then the code is asked for; a wrong one fails, the right one signs in
    assert first.status_code == 401 and first.json_body["error"] == "totp_required"
    assert Caller(analyst.client).sign_in("analyst@demo.test", totp="123456").json_body["error"] == "totp_invalid"
    assert Caller(analyst.client).sign_in("analyst@demo.test", totp=code).status_code == 200


def test_a_removed_user_loses_the_session_at_once(as_role, accounts):
    agent = as_role("agent")
    owner = as_role("owner")
    assert owner.json("DELETE", "/api/v1/users/u-agent")[0] == 200
    assert agent.json("GET", "/api/v1/auth/me")[0] == 401
    assert users_of(accounts).by_email("agent@demo.test") is None


def test_a_demoted_user_loses_rights_on_the_next_request(as_role):
    admin = as_role("admin")
    assert admin.json("GET", "/api/v1/audit/config")[0] == 200
    owner = as_role("owner")
    assert owner.json("PATCH", "/api/v1/users/u-admin", {"role": "analyst"})[0] == 200
    assert admin.json("GET", "/api/v1/audit/config")[0] == 403


def test_bad_user_input_names_the_field(as_role):
    owner = as_role("owner")
    status, body = owner.json("POST", "/api/v1/users", {"email": "not-an-email", "name": "X", "role": "agent",
                                                        "password": PASSWORD})
    assert status == 400 and body["field"] == "email"
    status, body = owner.json("POST", "/api/v1/users", {"email": "y@demo.test", "name": "Y", "role": "boss",
                                                        "password": PASSWORD})
    assert status == 400 and body["field"] == "role"
    status, body = owner.json("POST", "/api/v1/users", {"email": "owner@demo.test", "name": "Y", "role": "agent",
                                                        "password": PASSWORD})
    assert status == 409 and body["field"] == "email"
    status, body = owner.json("POST", "/api/v1/users", {"email": "z@demo.test", "name": "Z", "role": "agent",
                                                        "password": "short"})
    assert status == 400 and body["field"] == "password"


def test_an_api_key_asking_who_am_i_gets_its_tenant_and_scopes(accounts, client):
    from chalicelib.auth import create_api_key

    key, _ = create_api_key(accounts, "demo", scopes=["stats.read"], label="bi", actor="test")
    resp = client.http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == 200
    assert resp.json_body["tenant"] == "demo" and resp.json_body["permissions"] == ["stats.read"]
