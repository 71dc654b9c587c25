"""The staff workbench (工作台): who I am, my to-do / to-read / done items, notices, module entries."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_sends_an_anonymous_visitor_to_the_staff_sign_in(client: Any) -> None:
    response = client.get("/workbench/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:login"))


def test_it_refuses_a_citizen_account(cast: Any, client_for: Any) -> None:
    response = client_for(cast.citizen).get("/workbench/")
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


def test_it_shows_the_clerk_their_name_post_and_every_section(cast: Any, client_for: Any) -> None:
    response = client_for(cast.township_clerk).get("/workbench/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "李文书" in page
    assert "崆峒镇人民政府 文书" in page
    for heading in ("我的待办", "待阅", "已办", "通知", "功能入口"):
        assert heading in page
    assert "暂无待办事项" in page
    # 本单位 leads to the clerk's own unit and to no other.
    assert reverse("core:unit_detail", args=[cast.township_a1_gov.pk]) in page
    assert reverse("core:unit_detail", args=[cast.township_a2_gov.pk]) not in page


def test_it_offers_the_trail_only_to_those_who_may_read_it(cast: Any, client_for: Any) -> None:
    audit_url = reverse("core:audit_list")
    clerk_page = client_for(cast.township_clerk).get("/workbench/").content.decode()
    auditor_page = client_for(cast.audit_admin).get("/workbench/").content.decode()
    supervisor_page = client_for(cast.supervisor).get("/workbench/").content.decode()
    assert f'class="tile" href="{audit_url}"' not in clerk_page
    assert f'class="tile" href="{audit_url}"' in auditor_page
    assert f'class="tile" href="{audit_url}"' in supervisor_page
