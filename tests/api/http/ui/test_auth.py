"""Browser login: the cookie it sets, the roles it lets in, and what happens without or with a bad session."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from api.http.app import create_app
from archive.tokens import create_token, revoke_token
from tests.api.http.ui.conftest import COOKIE, World

PAGES = ("/ui", "/ui/dossiers", "/ui/audits", "/ui/alerts", "/ui/register")


def _cleared(set_cookie: str) -> bool:
    return set_cookie.startswith(f'{COOKIE}="";') and "Max-Age=0" in set_cookie and "Path=/ui" in set_cookie


def test_login_form_is_a_chinese_page_with_a_password_field(ui: World) -> None:
    response = ui.client.get("/ui/login")

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "登录" in response.text and 'type="password" name="token"' in response.text


def test_login_sets_an_httponly_samesite_strict_cookie_scoped_to_ui(ui: World) -> None:
    response = ui.client.post(
        "/ui/login",
        data={"token": ui.served.tokens["archivist"], "next": "/ui/audits"},
        follow_redirects=False,
    )

    assert response.status_code == 303 and response.headers["location"] == "/ui/audits"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={ui.served.tokens['archivist']};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back


def test_login_over_https_marks_the_cookie_secure(world: World) -> None:
    client = TestClient(world.client.app, base_url="https://archive.example")
    response = client.post(
        "/ui/login", data={"token": world.served.tokens["auditor"]}, follow_redirects=False
    )

    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


def test_unknown_token_is_refused_on_the_form_without_a_cookie(ui: World) -> None:
    response = ui.client.post("/ui/login", data={"token": "edt_0123456789abcdef_" + "A" * 43})

    assert response.status_code == 401
    assert "令牌无效" in response.text and "set-cookie" not in response.headers


def test_blank_token_asks_for_one(ui: World) -> None:
    response = ui.client.post("/ui/login", data={"token": "  "})

    assert response.status_code == 400 and "请粘贴" in response.text


def test_submitter_token_gets_the_403_page_and_no_cookie(ui: World) -> None:
    response = ui.client.post(
        "/ui/login", data={"token": ui.served.tokens["submitter"]}, follow_redirects=False
    )

    assert response.status_code == 403 and "无权访问" in response.text
    assert "set-cookie" not in response.headers


def test_submitter_session_cookie_gets_the_403_page_on_every_page(ui: World) -> None:
    ui.client.cookies.set(COOKIE, ui.served.tokens["submitter"], path="/ui")
    for path in PAGES:
        response = ui.client.get(path, follow_redirects=False)
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("text/html") and "无权访问" in response.text


def test_without_a_session_pages_redirect_to_login_remembering_the_page(ui: World) -> None:
    for path in (*PAGES, f"/ui/dossiers/{ui.served.archive_id}", "/ui/register.xlsx"):
        response = ui.client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/ui/login?next=%2Fui")


def test_a_bad_session_cookie_redirects_and_clears_it(ui: World) -> None:
    ui.client.cookies.set(COOKIE, "edt_0123456789abcdef_" + "B" * 43, path="/ui")
    response = ui.client.get("/ui/audits", follow_redirects=False)

    assert response.status_code == 303 and "expired=1" in response.headers["location"]
    assert _cleared(response.headers["set-cookie"])
    assert "登录已失效" in ui.client.get(response.headers["location"]).text


def test_the_bearer_header_alone_does_not_open_the_dashboard(ui: World) -> None:
    response = ui.client.get("/ui", headers=ui.served.headers("archivist"), follow_redirects=False)

    assert response.status_code == 303


def test_logout_clears_the_cookie(ui: World) -> None:
    ui.login("archivist")
    assert ui.client.get("/ui").status_code == 200

    response = ui.client.post("/ui/logout", follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"] == "/ui/login"
    assert _cleared(response.headers["set-cookie"])
    assert ui.client.get("/ui", follow_redirects=False).status_code == 303


def test_login_never_redirects_off_the_dashboard(ui: World) -> None:
    for target in ("https://evil.example/ui", "//evil.example/ui", "/api/v1/dossiers", "/\\evil.example"):
        response = ui.client.post(
            "/ui/login", data={"token": ui.served.tokens["archivist"], "next": target}, follow_redirects=False
        )
        assert response.headers["location"] == "/ui", target


def test_cross_site_login_post_is_refused(ui: World) -> None:
    response = ui.client.post(
        "/ui/login",
        data={"token": ui.served.tokens["archivist"]},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )

    assert response.status_code == 403 and "set-cookie" not in response.headers


def test_a_revoked_token_stops_opening_pages_at_once(world: World) -> None:
    # its own token, so revoking it does not disturb the other tests
    with world.served.inst.write_sessions() as session, session.begin():
        issued = create_token(session, "revoked later", "archivist", dt.datetime.now(dt.UTC))
    client = TestClient(create_app(world.served.inst.settings, installation=world.served.inst))
    with client:
        client.post("/ui/login", data={"token": issued.text}, follow_redirects=False)
        assert client.get("/ui").status_code == 200
        with world.served.inst.write_sessions() as session, session.begin():
            revoke_token(session, issued.principal.token_id, dt.datetime.now(dt.UTC))
        assert client.get("/ui", follow_redirects=False).status_code == 303
