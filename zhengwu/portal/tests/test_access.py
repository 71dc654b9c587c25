"""Each unit edits only its own site: other units' staff get 404, also by guessed ids."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from zhengwu.portal import services
from zhengwu.portal.models import Item
from zhengwu.portal.tests.factories import Cluster, draft, publish

pytestmark = pytest.mark.django_db


def test_it_hides_another_units_site_and_items(cluster: Cluster, client_for: Any) -> None:
    c = cluster
    item = draft(c.dept_editor, c.dept, c.dept_news, "文旅局内部稿件")
    other = client_for(c.county_editor)
    for url in [
        f"/cms/sites/{c.dept.pk}/",
        f"/cms/sites/{c.dept.pk}/items/new/",
        f"/cms/items/{item.pk}/",
        f"/cms/items/{item.pk}/edit/",
        f"/cms/items/{item.pk}/compare/",
        f"/cms/items/{item.pk + 1000}/",
        f"/cms/sites/{c.dept.pk + 1000}/",
    ]:
        assert other.get(url).status_code == 404, url
    for action in ["submit", "approve", "withdraw", "push", "return"]:
        assert (
            other.post(f"/cms/items/{item.pk}/{action}/", {"note": "x", "reason": "error"}).status_code == 404
        )
    item.refresh_from_db()
    assert item.state == "draft"
    assert "文旅局内部稿件" not in other.get("/cms/").content.decode()


def test_it_keeps_editors_of_one_site_off_another_sites_items_in_services(cluster: Cluster) -> None:
    c = cluster
    item = draft(c.dept_editor, c.dept, c.dept_news, "文旅局稿件")
    services.item_submit(actor=c.dept_editor, item=item)
    with pytest.raises(PermissionDenied):
        services.item_approve(actor=c.county_reviewer, item=item)
    with pytest.raises(PermissionDenied):
        draft(c.county_editor, c.dept, c.dept_news, "越权稿件")
    assert Item.objects.count() == 1


def test_it_refuses_public_accounts_and_sends_strangers_to_sign_in(
    cluster: Cluster, client_for: Any, client: Any
) -> None:
    c = cluster
    assert client_for(c.cast.citizen).get("/cms/").status_code == 403
    response = client.get(f"/cms/sites/{c.dept.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_lets_only_the_main_sites_reviewer_accept_a_push(
    cluster: Cluster, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    with django_capture_on_commit_callbacks(execute=True):
        item = publish(c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, "文旅局报送稿")
        placement = services.item_push(actor=c.dept_editor, item=item, column=c.main_dept_news)
    assert client_for(c.dept_reviewer).post(f"/cms/placements/{placement.pk}/approve/").status_code == 404
    assert client_for(c.county_reviewer).post(f"/cms/placements/{placement.pk}/approve/").status_code == 404
    placement.refresh_from_db()
    assert placement.state == "pending"
    # The main site's reviewer may read the pushed item, but not edit it.
    main = client_for(c.main_reviewer)
    assert main.get(f"/cms/items/{item.pk}/").status_code == 200
    assert main.get(f"/cms/items/{item.pk}/edit/").status_code == 404


def test_it_offers_the_site_desk_on_the_workbench_of_site_staff_only(
    cluster: Cluster, client_for: Any
) -> None:
    c = cluster
    assert "网站内容管理" in client_for(c.dept_editor).get("/workbench/").content.decode()
    assert "网站内容管理" not in client_for(c.cast.township_clerk).get("/workbench/").content.decode()
