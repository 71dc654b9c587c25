"""The public portal shell at / and the base layout every page shares."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_offers_citizen_and_staff_sign_in_to_a_visitor(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "政府门户网站" in page
    assert f'href="{reverse("identity:public_login")}"' in page
    assert f'href="{reverse("identity:login")}"' in page
    for channel in ("办事服务", "政务公开", "政民互动"):
        assert channel in page


def test_it_welcomes_a_signed_in_citizen_and_sends_staff_to_the_workbench(cast: Any, client_for: Any) -> None:
    citizen_page = client_for(cast.citizen).get("/").content.decode()
    assert "欢迎，张三。" in citizen_page
    assert "公众登录</a>" not in citizen_page
    staff_page = client_for(cast.township_clerk).get("/").content.decode()
    assert f'href="{reverse("workbench:home")}"' in staff_page


def test_it_switches_to_english_and_remembers_the_choice(client: Client) -> None:
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page
    assert "Government Portal" in page
    assert "Citizen sign-in" in page
    assert "政府门户网站" not in page
    # The next visit without the form still comes in English (the cookie), and switching back works.
    assert "Government Portal" in client.get("/").content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "政府门户网站" in client.get("/").content.decode()


def test_it_ignores_an_unknown_language_and_a_foreign_next_url(client: Client) -> None:
    response = client.post(reverse("set_language"), {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
    assert "django_language" not in response.cookies
    assert "政府门户网站" in client.get("/").content.decode()


def test_it_shows_the_not_found_page_with_404(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/public/login/", "/no-such-page/"])
def test_it_serves_accessible_pages_without_inline_script(client: Client, path: str) -> None:
    response = client.get(path)
    page = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    # CSP would block inline code: every script is a file, and no element carries an on* handler.
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", page))
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", page)
    # Landmarks, a skip link to the main content, the language of the page and the large-text switch.
    assert '<a class="skip" href="#main">跳到正文</a>' in page
    assert '<main id="main"' in page and "<header" in page and "<footer" in page and "<nav" in page
    assert '<html lang="zh-hans">' in page
    assert 'data-large-text aria-pressed="false"' in page


def test_it_serves_the_page_script_and_styles(client: Client) -> None:
    for path in ("/static/zhengwu/app.js", "/static/zhengwu/app.css"):
        response = client.get(path)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) if response.streaming else response.content


def test_it_explains_an_expired_form_in_chinese() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "页面已过期" in page and "刷新后重新提交" in page
    assert "django_language" not in response.cookies
