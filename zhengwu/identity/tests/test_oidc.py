"""The OpenID Connect provider: client register (system admin only), Chinese consent, claims, and an
end-to-end authorization-code flow with PKCE driven by a real OIDC client library against a live server."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import reverse
from oauth2_provider.models import AccessToken, Application

from zhengwu.core.models import AuditEvent

REDIRECT = "http://spxt.example.gov.cn/oidc/callback"
LIST = reverse("oauth2_provider:list")
REGISTER = reverse("oauth2_provider:register")


def _decode_segment(segment: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def register_client(client: Client, **overrides: Any) -> tuple[Application, str]:
    data = {
        "name": "市场监管局审批系统",
        "client_type": "confidential",
        "redirect_uris": REDIRECT,
        "post_logout_redirect_uris": "",
    }
    data.update(overrides)
    response = client.post(REGISTER, data)
    assert response.status_code == 201, response.content.decode()
    page = response.content.decode()
    client_id = re.search(r'data-testid="client-id">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    secret = re.search(r'data-testid="client-secret">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    return Application.objects.get(client_id=client_id), secret


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def authorize_params(app: Application, challenge: str, scope: str = "openid profile units") -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "st-123",
        "nonce": "n-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def consent_and_get_code(client: Client, app: Application, challenge: str, scope: str) -> str:
    page = client.get(reverse("oauth2_provider:authorize"), authorize_params(app, challenge, scope))
    assert page.status_code == 200
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data["allow"] = "on"
    response = client.post(reverse("oauth2_provider:authorize"), data)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["state"] == ["st-123"]
    return query["code"][0]


def exchange(app: Application, secret: str, code: str, verifier: str) -> dict[str, Any]:
    basic = base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    response = Client().post(
        reverse("oauth2_provider:token"),
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content.decode()
    return json.loads(response.content)


def userinfo(access_token: str) -> Any:
    return Client().get(reverse("oauth2_provider:user-info"), HTTP_AUTHORIZATION=f"Bearer {access_token}")


# --- The client register --------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_registers_a_client_shows_the_secret_once_and_records_it(client_for: Any, cast: Any) -> None:
    admin = client_for(cast.system_admin)
    app, secret = register_client(admin)
    assert app.user == cast.system_admin and app.algorithm == "RS256"
    assert app.authorization_grant_type == "authorization-code"
    assert app.client_secret != secret and check_password(secret, app.client_secret)
    detail = admin.get(reverse("oauth2_provider:detail", args=[app.pk])).content.decode()
    assert app.client_id in detail and secret not in detail
    assert "市场监管局审批系统" in admin.get(LIST).content.decode()
    event = AuditEvent.objects.get(action="oidc_client.create")
    assert event.actor_id == cast.system_admin.pk and event.after["redirect_uris"] == REDIRECT
    assert secret not in json.dumps(event.after)


@pytest.mark.django_db
def test_it_edits_resets_and_deletes_a_client_with_a_trail(client_for: Any, cast: Any) -> None:
    admin = client_for(cast.system_admin)
    app, old_secret = register_client(admin)
    response = admin.post(
        reverse("oauth2_provider:update", args=[app.pk]),
        {
            "name": "市场监管局审批系统（新）",
            "client_type": "confidential",
            "redirect_uris": REDIRECT + "\nhttps://spxt.example.gov.cn/cb2",
        },
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert (
        app.name == "市场监管局审批系统（新）"
        and app.redirect_uris.split()[1] == "https://spxt.example.gov.cn/cb2"
    )
    update = AuditEvent.objects.get(action="oidc_client.update")
    assert (
        update.before["name"] == "市场监管局审批系统" and update.after["name"] == "市场监管局审批系统（新）"
    )

    response = admin.post(reverse("oauth2_provider:reset-secret", args=[app.pk]))
    new_secret = re.search(r'data-testid="client-secret">([^<]+)<', response.content.decode()).group(1)  # type: ignore[union-attr]
    app.refresh_from_db()
    assert new_secret != old_secret and check_password(new_secret, app.client_secret)
    assert response["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="oidc_client.reset_secret").count() == 1

    assert admin.get(reverse("oauth2_provider:delete", args=[app.pk])).status_code == 200
    assert admin.post(reverse("oauth2_provider:delete", args=[app.pk])).status_code == 302
    assert not Application.objects.filter(pk=app.pk).exists()
    deleted = AuditEvent.objects.get(action="oidc_client.delete")
    assert deleted.object_id == str(app.pk) and deleted.before["client_id"] == app.client_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who", ["security_admin", "audit_admin", "township_admin", "township_clerk", "supervisor", "citizen"]
)
def test_it_lets_only_the_system_admin_manage_clients(client_for: Any, cast: Any, who: str) -> None:
    app, _secret = register_client(client_for(cast.system_admin))
    client = client_for(getattr(cast, who))
    for url in (
        LIST,
        REGISTER,
        reverse("oauth2_provider:detail", args=[app.pk]),
        reverse("oauth2_provider:update", args=[app.pk]),
        reverse("oauth2_provider:delete", args=[app.pk]),
    ):
        assert client.get(url).status_code == 403, url
    data = {"name": "假系统", "client_type": "confidential", "redirect_uris": REDIRECT}
    assert client.post(REGISTER, data).status_code == 403
    assert client.post(reverse("oauth2_provider:update", args=[app.pk]), data).status_code == 403
    assert client.post(reverse("oauth2_provider:delete", args=[app.pk])).status_code == 403
    assert client.post(reverse("oauth2_provider:reset-secret", args=[app.pk])).status_code == 403
    assert Application.objects.count() == 1 and Application.objects.get().name == "市场监管局审批系统"
    assert AuditEvent.objects.filter(action__startswith="oidc_client.").count() == 1


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_of_the_register_to_sign_in(client: Client) -> None:
    response = client.get(LIST)
    assert response.status_code == 302 and response["Location"].startswith(reverse("identity:login"))


@pytest.mark.django_db
def test_it_answers_404_for_a_guessed_client_id(client_for: Any, cast: Any) -> None:
    admin = client_for(cast.system_admin)
    assert admin.get(reverse("oauth2_provider:detail", args=[987654])).status_code == 404
    assert admin.post(reverse("oauth2_provider:delete", args=[987654])).status_code == 404
    assert admin.get("/o/applications/abc/").status_code == 404


@pytest.mark.django_db
def test_it_does_not_mount_the_toolkits_other_management_endpoints(client_for: Any, cast: Any) -> None:
    clerk = client_for(cast.township_clerk)
    for url in ("/o/authorized_tokens/", "/o/register/", "/o/device/", "/o/device-authorization/"):
        assert clerk.get(url).status_code == 404, url


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("redirect_uris", "javascript:alert(1)", "须以 http / https:// 开头"),
        ("redirect_uris", "ftp://files.example.gov.cn/cb", "须以 http / https:// 开头"),
        ("redirect_uris", "https://x.example.gov.cn/cb#frag", "不能包含 # 片段"),
        ("redirect_uris", "", "这个字段是必填项"),
        ("name", "系" * 300, "不超过 255"),
        ("client_type", "implicit", "选择一个有效的选项"),
    ],
)
def test_it_refuses_a_bad_client_registration_in_chinese(
    client_for: Any, cast: Any, field: str, value: str, message: str
) -> None:
    data = {"name": "某系统", "client_type": "confidential", "redirect_uris": REDIRECT}
    data[field] = value
    response = client_for(cast.system_admin).post(REGISTER, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Application.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="oidc_client.").exists()


# --- Consent and claims ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_asks_for_consent_in_chinese(client_for: Any, cast: Any) -> None:
    app, _secret = register_client(client_for(cast.system_admin))
    _verifier, challenge = pkce_pair()
    page = client_for(cast.township_clerk).get(
        reverse("oauth2_provider:authorize"), authorize_params(app, challenge)
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert "“市场监管局审批系统”请求使用您的平台账号登录" in text
    assert "李文书" in text and "崆峒镇人民政府" in text
    assert "姓名与单位" in text and "所属单位与岗位" in text
    assert "同意授权" in text and "拒绝" in text


@pytest.mark.django_db
def test_it_refuses_a_public_account_at_the_authorization_endpoint(client_for: Any, cast: Any) -> None:
    app, _secret = register_client(client_for(cast.system_admin))
    _verifier, challenge = pkce_pair()
    citizen = client_for(cast.citizen)
    page = citizen.get(reverse("oauth2_provider:authorize"), authorize_params(app, challenge))
    assert page.status_code == 403
    assert "公众和企业账号不能授权登录" in page.content.decode()
    data = {**authorize_params(app, challenge), "allow": "on"}
    response = citizen.post(reverse("oauth2_provider:authorize"), data)
    assert response.status_code == 403
    assert not AccessToken.objects.exists()


@pytest.mark.django_db
def test_it_sends_anonymous_users_to_the_staff_sign_in(client_for: Any, cast: Any) -> None:
    app, _secret = register_client(client_for(cast.system_admin))
    _verifier, challenge = pkce_pair()
    response = Client().get(reverse("oauth2_provider:authorize"), authorize_params(app, challenge))
    assert response.status_code == 302 and response["Location"].startswith(reverse("identity:login"))


@pytest.mark.django_db
def test_it_asks_a_platform_admin_for_the_second_factor_before_consent(client_for: Any, cast: Any) -> None:
    app, _secret = register_client(client_for(cast.system_admin))
    _verifier, challenge = pkce_pair()
    password_only = client_for(cast.security_admin, otp=False)
    response = password_only.get(reverse("oauth2_provider:authorize"), authorize_params(app, challenge))
    assert response.status_code == 302 and response["Location"].startswith(reverse("identity:otp_setup"))
    assert "code_challenge" in response["Location"]  # the whole request comes back after the factor


@pytest.mark.django_db
def test_it_refuses_an_authorization_request_without_pkce_s256(client_for: Any, cast: Any) -> None:
    app, _secret = register_client(client_for(cast.system_admin))
    clerk = client_for(cast.township_clerk)
    params = authorize_params(app, "x")
    del params["code_challenge"], params["code_challenge_method"]
    response = clerk.get(reverse("oauth2_provider:authorize"), params)
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT + "?error=invalid_request")
    plain = clerk.get(
        reverse("oauth2_provider:authorize"), {**authorize_params(app, "x"), "code_challenge_method": "plain"}
    )
    assert plain.status_code == 400 and "授权请求无效" in plain.content.decode()


@pytest.mark.django_db
def test_it_never_redirects_to_an_unregistered_address(client_for: Any, cast: Any) -> None:
    app, _secret = register_client(client_for(cast.system_admin))
    _verifier, challenge = pkce_pair()
    params = {**authorize_params(app, challenge), "redirect_uri": "http://evil.example.com/cb"}
    response = client_for(cast.township_clerk).get(reverse("oauth2_provider:authorize"), params)
    assert response.status_code == 400
    assert "授权请求无效" in response.content.decode()


@pytest.mark.django_db
def test_it_puts_the_staff_members_units_posts_and_roles_into_the_tokens(client_for: Any, cast: Any) -> None:
    app, secret = register_client(client_for(cast.system_admin))
    verifier, challenge = pkce_pair()
    clerk = client_for(cast.township_clerk)
    code = consent_and_get_code(clerk, app, challenge, "openid profile units")
    tokens = exchange(app, secret, code, verifier)
    claims = _decode_segment(tokens["id_token"].split(".")[1])
    assert claims["sub"] == str(cast.township_clerk.pk)
    assert claims["name"] == "李文书" and claims["preferred_username"] == "kt_clerk"
    assert claims["unit_code"] == "A1-GOV" and claims["unit_name"] == "崆峒镇人民政府"
    assert claims["nonce"] == "n-456" and claims["aud"] == app.client_id
    assert claims["units"] == [
        {"code": "A1-GOV", "name": "崆峒镇人民政府", "posts": ["文书"], "roles": ["clerk", "handler"]}
    ]
    info = json.loads(userinfo(tokens["access_token"]).content)
    assert info["unit_name"] == "崆峒镇人民政府" and info["units"][0]["roles"] == ["clerk", "handler"]
    consent = AuditEvent.objects.get(action="oidc.authorize")
    assert consent.actor_id == cast.township_clerk.pk and consent.after["scopes"] == [
        "openid",
        "profile",
        "units",
    ]


@pytest.mark.django_db
def test_it_lists_a_person_in_two_units(client_for: Any, cast: Any) -> None:
    from zhengwu.core.models import Post, PostAssignment, UnitRole

    post = Post.objects.create(unit=cast.county_a_gov, name="兼职联络员")
    PostAssignment.objects.create(user=cast.township_clerk, post=post, is_primary=False)
    UnitRole.objects.create(user=cast.township_clerk, unit=cast.county_a_gov, role="reviewer")
    app, secret = register_client(client_for(cast.system_admin))
    verifier, challenge = pkce_pair()
    code = consent_and_get_code(client_for(cast.township_clerk), app, challenge, "openid units")
    info = json.loads(userinfo(exchange(app, secret, code, verifier)["access_token"]).content)
    assert {u["code"]: (u["posts"], u["roles"]) for u in info["units"]} == {
        "A1-GOV": (["文书"], ["clerk", "handler"]),
        "A-GOV": (["兼职联络员"], ["reviewer"]),
    }
    # Only what the scopes allow: no profile scope, no name.
    assert "name" not in info and "unit_code" not in info


@pytest.mark.django_db
def test_it_gives_only_the_subject_for_the_openid_scope_alone(client_for: Any, cast: Any) -> None:
    app, secret = register_client(client_for(cast.system_admin))
    verifier, challenge = pkce_pair()
    code = consent_and_get_code(client_for(cast.county_reviewer), app, challenge, "openid")
    tokens = exchange(app, secret, code, verifier)
    info = json.loads(userinfo(tokens["access_token"]).content)
    assert info == {"sub": str(cast.county_reviewer.pk)}


@pytest.mark.django_db
def test_it_revokes_tokens_when_the_staff_member_signs_out_everywhere(client_for: Any, cast: Any) -> None:
    app, secret = register_client(client_for(cast.system_admin))
    verifier, challenge = pkce_pair()
    clerk = client_for(cast.township_clerk)
    tokens = exchange(app, secret, consent_and_get_code(clerk, app, challenge, "openid profile"), verifier)
    assert userinfo(tokens["access_token"]).status_code == 200
    clerk.post(reverse("identity:logout_everywhere"))
    assert userinfo(tokens["access_token"]).status_code == 401


@pytest.mark.django_db
def test_it_publishes_the_unit_claims_in_the_discovery_document(client: Client) -> None:
    doc = json.loads(client.get("/o/.well-known/openid-configuration").content)
    assert {"unit_code", "unit_name", "units", "name", "preferred_username"} <= set(doc["claims_supported"])
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "implicit" not in " ".join(doc.get("response_types_supported", []))
    # The OAuth metadata names the same issuer (clients check `iss` in authorization responses against it).
    metadata = json.loads(client.get("/o/.well-known/oauth-authorization-server").content)
    assert metadata["issuer"] == doc["issuer"] == "http://testserver/o"


# --- End to end with a real OIDC client library -----------------------------------------------------


class _Forms(HTMLParser):
    """The forms of a page: their hidden and text fields (enough to fill a sign-in or consent form)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({})
        elif tag == "input" and self.forms and a.get("name") and a.get("type") in ("hidden", "text", None):
            self.forms[-1][str(a["name"])] = a.get("value") or ""


def forms_of(html: str) -> list[dict[str, str]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


@pytest.mark.django_db(transaction=True)
def test_it_signs_a_staff_member_into_another_system_end_to_end(
    live_server: Any, client_for: Any, cast: Any, monkeypatch: Any, request: Any
) -> None:
    from authlib.integrations.requests_client import OAuth2Session
    from joserfc import jwt
    from joserfc.errors import BadSignatureError
    from joserfc.jwk import KeySet

    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # live_server speaks http
    base = live_server.url

    # The platform system admin registers the other system through the register page.
    app, secret = register_client(client_for(cast.system_admin), name="垂直部门审批系统")

    # 1. Discovery.
    discovery = requests.get(f"{base}/o/.well-known/openid-configuration", timeout=10).json()
    issuer = discovery["issuer"]
    assert issuer == f"{base}/o"
    assert "S256" in discovery["code_challenge_methods_supported"]

    # 2. The relying party starts the authorization-code flow with PKCE S256.
    rp = OAuth2Session(
        client_id=app.client_id,
        client_secret=secret,
        scope="openid profile units",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = rp.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    assert "code_challenge_method=S256" in url

    # 3. The staff member's browser: sent to sign in, signs in through the real form, consents.
    browser = requests.Session()
    # The live server's request threads must be done before the test ends (keep-alive connections
    # would otherwise close after the database is handed back), so both sessions close at the end.
    request.addfinalizer(browser.close)
    request.addfinalizer(rp.close)
    page = browser.get(url, timeout=10)
    assert urlsplit(page.url).path == reverse("identity:login")
    login_form = forms_of(page.text)[-1]
    login_form.update({"username": "kt_clerk", "password": cast.password})
    consent = browser.post(page.url, data=login_form, timeout=10)
    assert consent.status_code == 200 and urlsplit(consent.url).path == reverse("oauth2_provider:authorize")
    assert "请求使用您的平台账号登录" in consent.text and "垂直部门审批系统" in consent.text
    consent_form = next(f for f in forms_of(consent.text) if "client_id" in f)
    consent_form["allow"] = "on"
    back = browser.post(consent.url, data=consent_form, allow_redirects=False, timeout=10)
    assert back.status_code == 302 and back.headers["Location"].startswith(REDIRECT)
    returned = parse_qs(urlsplit(back.headers["Location"]).query)
    assert returned["state"] == [state] and returned["iss"] == [issuer]

    # 4. Token exchange with the code verifier.
    token = rp.fetch_token(
        discovery["token_endpoint"],
        authorization_response=back.headers["Location"],
        code_verifier=verifier,
        state=state,
    )
    assert token["token_type"].lower() == "bearer"

    # 5. The ID token's signature against the published keys, then its claims.
    keys = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": app.client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True, "value": str(cast.township_clerk.pk)},
    ).validate(id_token.claims)
    assert id_token.claims["unit_code"] == "A1-GOV" and id_token.claims["unit_name"] == "崆峒镇人民政府"
    header, payload, signature = token["id_token"].split(".")
    forged = _decode_segment(payload) | {"unit_code": "C-GOV"}
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    with pytest.raises(BadSignatureError):
        jwt.decode(f"{header}.{forged_payload}.{signature}", keys, algorithms=["RS256"])

    # 6. Userinfo with the access token shows the staff member's unit.
    info = rp.get(discovery["userinfo_endpoint"], timeout=10).json()
    assert info["sub"] == str(cast.township_clerk.pk)
    assert info["name"] == "李文书" and info["unit_name"] == "崆峒镇人民政府"
    assert info["units"][0]["posts"] == ["文书"]

    # A second run of the same code is refused (codes are single-use).
    replay = requests.post(
        discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": returned["code"][0],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(app.client_id, secret),
        timeout=10,
    )
    assert replay.status_code == 400


@pytest.mark.django_db
def test_it_keeps_tokens_hashed_and_catches_a_replayed_refresh_token(client_for: Any, cast: Any) -> None:
    app, secret = register_client(client_for(cast.system_admin))
    verifier, challenge = pkce_pair()
    tokens = exchange(
        app, secret, consent_and_get_code(client_for(cast.township_clerk), app, challenge, "openid"), verifier
    )
    stored = AccessToken.objects.get()
    assert tokens["access_token"] not in (stored.token, str(stored.token_checksum))
    basic = base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()

    def refresh(token: str) -> Any:
        return Client().post(
            reverse("oauth2_provider:token"),
            {"grant_type": "refresh_token", "refresh_token": token},
            HTTP_AUTHORIZATION=f"Basic {basic}",
        )

    first = refresh(tokens["refresh_token"])
    assert first.status_code == 200
    renewed = json.loads(first.content)
    assert userinfo(renewed["access_token"]).status_code == 200
    # The old refresh token used again: refused, and the whole token family is revoked.
    assert refresh(tokens["refresh_token"]).status_code == 400
    assert userinfo(renewed["access_token"]).status_code == 401
