"""Publish review (信息上网发布审核): draft → review → (second level) → published; withdraw; versions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from zhengwu.core.models import AuditEvent, UnitRole
from zhengwu.portal import services
from zhengwu.portal.models import Item, ItemState, ItemVersion, SensitiveWord, WordLevel
from zhengwu.portal.search import search
from zhengwu.portal.tests.factories import Cluster, draft, publish

pytestmark = pytest.mark.django_db


def test_it_publishes_an_approved_article_on_the_sub_site(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    with django_capture_on_commit_callbacks(execute=True):
        item = publish(c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, "文旅局召开旅游旺季安全工作会议")
    assert item.state == ItemState.PUBLISHED and item.live_version is not None
    page = publish_root / "site" / "wlj" / "art" / f"{item.pk}.html"
    assert "文旅局召开旅游旺季安全工作会议" in page.read_text()
    column_page = (publish_root / "site" / "wlj" / "gzdt" / "index.html").read_text()
    assert f"/site/wlj/art/{item.pk}.html" in column_page
    assert "文旅局召开旅游旺季安全工作会议" in (publish_root / "site" / "wlj" / "index.html").read_text()
    actions = list(
        AuditEvent.objects.filter(object_type="portal.item", object_id=str(item.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions == [
        "portal.item.create",
        "portal.item.submit",
        "portal.item.approve",
        "portal.item.publish",
    ]


def test_it_refuses_a_classified_item_on_save_with_a_clear_message(cluster: Cluster, client_for: Any) -> None:
    c = cluster
    client = client_for(c.dept_editor)
    response = client.post(
        f"/cms/sites/{c.dept.pk}/items/new/",
        {
            "kind": "article",
            "column": c.dept_news.pk,
            "title": "关于某项目的内部研判",
            "body": "内容",
            "disclosure": "proactive",
            "classification": "classified",
        },
    )
    assert response.status_code == 400
    assert "涉密信息严禁在本平台处理和发布" in response.content.decode()
    assert not Item.objects.exists()
    with pytest.raises(ValidationError, match="涉密"):
        draft(c.dept_editor, c.dept, c.dept_news, "关于某项目的内部研判", classification="classified")
    assert not Item.objects.exists()


def test_it_refuses_to_submit_a_blocked_sensitive_word_and_names_it(
    cluster: Cluster, client_for: Any
) -> None:
    c = cluster
    SensitiveWord.objects.create(word="赌博网站", level=WordLevel.BLOCK)
    item = draft(c.dept_editor, c.dept, c.dept_news, "旅游推介", body="欢迎访问某 赌 博 网 站 了解详情")
    response = client_for(c.dept_editor).post(f"/cms/items/{item.pk}/submit/")
    assert response.status_code == 400
    text = response.content.decode()
    assert "含有禁止发布的敏感词：赌博网站" in text
    item.refresh_from_db()
    assert item.state == ItemState.DRAFT
    assert not AuditEvent.objects.filter(action="portal.item.submit").exists()


def test_it_lets_a_flagged_word_through_marked_for_the_reviewer(cluster: Cluster, client_for: Any) -> None:
    c = cluster
    SensitiveWord.objects.create(word="最高级", level=WordLevel.FLAG)
    item = draft(c.dept_editor, c.dept, c.dept_news, "景区推介", body="本景区是全省最高级别的景区")
    services.item_submit(actor=c.dept_editor, item=item)
    item.refresh_from_db()
    assert item.state == ItemState.PENDING and item.flagged_words == ["最高级"]
    page = client_for(c.dept_reviewer).get("/cms/").content.decode()
    assert "景区推介" in page and "含提示词" in page


def test_it_does_not_let_anyone_approve_their_own_submission(cluster: Cluster) -> None:
    c = cluster
    item = draft(c.county_reviewer, c.county, c.county_news, "崆峒区召开常务会议")
    services.item_submit(actor=c.county_reviewer, item=item)
    with pytest.raises(ValidationError, match="不能审核自己提交的信息"):
        services.item_approve(actor=c.county_reviewer, item=item)
    item.refresh_from_db()
    assert item.state == ItemState.PENDING


def test_it_refuses_a_second_approval_of_the_same_item(cluster: Cluster, client_for: Any) -> None:
    c = cluster
    item = draft(c.dept_editor, c.dept, c.dept_news, "通知")
    services.item_submit(actor=c.dept_editor, item=item)
    reviewer = client_for(c.dept_reviewer)
    assert reviewer.post(f"/cms/items/{item.pk}/approve/").status_code == 302
    again = reviewer.post(f"/cms/items/{item.pk}/approve/")
    assert again.status_code == 400
    assert "不在待审核状态" in again.content.decode()
    assert AuditEvent.objects.filter(action="portal.item.publish").count() == 1


def test_it_asks_the_leader_for_a_second_level_when_the_site_requires_it(
    cluster: Cluster, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    c.dept.second_review = True
    c.dept.save()
    leader = c.cast.city_leader
    UnitRole.objects.create(user=leader, unit=c.cast.outsider_unit, role="leader")
    item = draft(c.dept_editor, c.dept, c.dept_news, "重大活动预告")
    services.item_submit(actor=c.dept_editor, item=item)
    services.item_approve(actor=c.dept_reviewer, item=item, note="同意")
    item.refresh_from_db()
    assert item.state == ItemState.PENDING_SECOND and item.live_version is None
    with pytest.raises(PermissionDenied):
        services.item_approve(actor=c.dept_reviewer, item=item)
    with django_capture_on_commit_callbacks(execute=True):
        services.item_approve(actor=leader, item=item)
    item.refresh_from_db()
    assert item.state == ItemState.PUBLISHED


def test_it_sends_an_item_back_with_the_reviewers_reasons(cluster: Cluster, client_for: Any) -> None:
    c = cluster
    item = draft(c.dept_editor, c.dept, c.dept_news, "错别字很多的稿件")
    services.item_submit(actor=c.dept_editor, item=item)
    reviewer = client_for(c.dept_reviewer)
    empty = reviewer.post(f"/cms/items/{item.pk}/return/", {"note": ""})
    assert empty.status_code == 400
    assert reviewer.post(f"/cms/items/{item.pk}/return/", {"note": "请核对第二段数据"}).status_code == 302
    item.refresh_from_db()
    assert item.state == ItemState.DRAFT and item.review_note == "请核对第二段数据"
    assert "请核对第二段数据" in client_for(c.dept_editor).get(f"/cms/items/{item.pk}/").content.decode()


def test_it_keeps_the_live_version_online_while_a_revision_waits_for_review(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    with django_capture_on_commit_callbacks(execute=True):
        item = publish(c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, "原标题", body="原来的正文")
        services.item_update(
            actor=c.dept_editor,
            item=item,
            values={"kind": "article", "column": c.dept_news, "title": "新标题", "body": "修改后的正文"},
        )
    item.refresh_from_db()
    page = publish_root / "site" / "wlj" / "art" / f"{item.pk}.html"
    assert item.state == ItemState.DRAFT and item.is_live
    assert "原标题" in page.read_text() and "新标题" not in page.read_text()
    assert search("原标题").total == 1 and search("新标题").total == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.item_submit(actor=c.dept_editor, item=item)
        services.item_approve(actor=c.dept_reviewer, item=item)
    assert "新标题" in page.read_text()
    assert search("新标题").total == 1 and search("原标题").total == 0


def test_it_compares_two_versions_field_by_field(cluster: Cluster, client_for: Any) -> None:
    c = cluster
    item = draft(c.dept_editor, c.dept, c.dept_news, "旅游节开幕", body="第一届旅游节于五月开幕")
    services.item_update(
        actor=c.dept_editor,
        item=item,
        values={
            "kind": "article",
            "column": c.dept_news,
            "title": "旅游节开幕",
            "body": "第二届旅游节于六月开幕",
        },
    )
    assert ItemVersion.objects.filter(item=item).count() == 2
    page = client_for(c.dept_editor).get(f"/cms/items/{item.pk}/compare/?a=1&b=2").content.decode()
    assert "<del>一</del><ins>二</ins>" in page and "<del>五</del><ins>六</ins>" in page


def test_it_publishes_a_scheduled_item_when_its_time_comes(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    when = timezone.now() + dt.timedelta(hours=2)
    item = publish(c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, "节日开放时间公告", publish_at=when)
    assert item.state == ItemState.SCHEDULED and not item.is_live
    assert services.item_publish_due(now=timezone.now()) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.item_publish_due(now=when + dt.timedelta(minutes=1)) == 1
    item.refresh_from_db()
    assert item.state == ItemState.PUBLISHED
    assert (publish_root / "site" / "wlj" / "art" / f"{item.pk}.html").exists()
    assert AuditEvent.objects.filter(action="portal.item.publish", actor=None).count() == 1


def test_it_withdraws_an_item_with_a_recorded_reason(
    cluster: Cluster, publish_root: Path, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    with django_capture_on_commit_callbacks(execute=True):
        item = publish(c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, "错发的招聘公告")
    reviewer = client_for(c.dept_reviewer)
    no_reason = reviewer.post(f"/cms/items/{item.pk}/withdraw/", {"reason": "error", "note": ""})
    assert no_reason.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        ok = reviewer.post(f"/cms/items/{item.pk}/withdraw/", {"reason": "error", "note": "岗位数量有误"})
    assert ok.status_code == 302
    item.refresh_from_db()
    assert item.state == ItemState.WITHDRAWN and item.withdraw_reason == "error"
    assert not (publish_root / "site" / "wlj" / "art" / f"{item.pk}.html").exists()
    assert "错发的招聘公告" not in (publish_root / "site" / "wlj" / "gzdt" / "index.html").read_text()
    assert search("招聘公告").total == 0
    event = AuditEvent.objects.get(action="portal.item.withdraw")
    assert event.after["reason_label"] == "发布有误" and event.after["note"] == "岗位数量有误"
    assert "岗位数量有误" in reviewer.get(f"/cms/items/{item.pk}/").content.decode()


def test_it_refuses_items_that_are_not_proactively_public(cluster: Cluster) -> None:
    c = cluster
    with pytest.raises(ValidationError):
        draft(c.dept_editor, c.dept, c.dept_news, "内部管理制度", disclosure="withheld")
    item = draft(
        c.dept_editor,
        c.dept,
        c.dept_news,
        "内部管理制度",
        disclosure="withheld",
        disclosure_reason="内部事务信息",
    )
    with pytest.raises(ValidationError, match="不在网站主动发布"):
        services.item_submit(actor=c.dept_editor, item=item)


def test_the_queue_publishes_due_items_each_minute(cluster: Cluster) -> None:
    from freezegun import freeze_time

    from zhengwu.portal import tasks

    c = cluster
    when = timezone.now() + dt.timedelta(minutes=5)
    item = publish(c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, "定时发布的公告", publish_at=when)
    assert tasks.portal_publish_due.call_local() == 0
    with freeze_time(when + dt.timedelta(seconds=30)):
        assert tasks.portal_publish_due.call_local() == 1
    item.refresh_from_db()
    assert item.state == ItemState.PUBLISHED
