"""The disclosure catalogue: index numbers by the platform's rule (never twice), entries made when a
proactively disclosed item is published and removed when it is withdrawn, and the public pages that
browse by unit and category and search inside the catalogue."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from zhengwu.disclosure import services
from zhengwu.disclosure.models import CatalogueEntry, Category
from zhengwu.disclosure.services import DisclosureError
from zhengwu.portal import services as portal_services
from zhengwu.portal.tests.factories import Cluster, publish

pytestmark = pytest.mark.django_db


def _publish(cluster: Cluster, title: str, body: str = "", column: Any = None) -> Any:
    return publish(
        cluster.dept_editor, cluster.dept_reviewer, cluster.dept, column or cluster.dept_news, title, body
    )


def test_it_numbers_entries_by_the_platform_rule_per_unit_category_and_year(cluster: Cluster) -> None:
    year = timezone.localdate().year
    first = _publish(cluster, "关于开展文化旅游安全检查的工作动态")
    second = _publish(cluster, "关于景区门票减免的通知", column=cluster.dept_notices)
    third = _publish(cluster, "文旅局召开季度工作会议")
    numbers = {i.title: CatalogueEntry.objects.get(item=i).index_number for i in (first, second, third)}
    assert numbers[first.title] == f"C-TOUR/GZDT-{year}-00001"
    assert numbers[second.title] == f"C-TOUR/TZGG-{year}-00001"  # column slug tzgg → 通知公告
    assert numbers[third.title] == f"C-TOUR/GZDT-{year}-00002"
    entry = CatalogueEntry.objects.get(item=second)
    assert entry.category.name == "通知公告" and entry.issuing_unit == "平凉市文化和旅游局"


def test_it_refuses_rules_that_could_repeat_or_do_not_parse(cast: Any) -> None:
    admin = cast.system_admin
    for bad, message in (
        ("{unit_code}-{year}", "{seq}"),
        ("{category_code}-{year}-{seq}", "{unit_code}"),
        ("{unit_code}-{yr}-{seq}", "未知字段"),
        ("{unit_code}-{year:04d}-{seq}", "只有 {seq}"),
        ("{unit_code}-{year}-{seq", "花括号"),
        ("", "请填写"),
        ("{unit_code}-{year}-{seq}" + "x" * 60, "64"),
    ):
        with pytest.raises(DisclosureError, match=message):
            services.index_rule_set(actor=admin, pattern=bad)
    with pytest.raises(PermissionError):
        services.index_rule_set(actor=cast.township_clerk, pattern="{unit_code}-{year}-{seq}")
    services.index_rule_set(actor=admin, pattern="{unit_code}〔{year}〕{seq:04d}")
    assert services.index_rule_current() == "{unit_code}〔{year}〕{seq:04d}"


def test_it_never_gives_a_number_twice_after_the_rule_changes(cluster: Cluster) -> None:
    admin = cluster.cast.system_admin
    year = timezone.localdate().year
    services.index_rule_set(actor=admin, pattern="{unit_code}-{year}-GZDT{seq}")  # one sequence per unit
    _publish(cluster, "动态一")
    _publish(cluster, "动态二")
    # The new rule names the category, so its sequence starts again — and would meet the old numbers.
    services.index_rule_set(actor=admin, pattern="{unit_code}-{year}-{category_code}{seq}")
    third = _publish(cluster, "动态三")
    numbers = list(CatalogueEntry.objects.values_list("index_number", flat=True))
    assert len(numbers) == len(set(numbers)) == 3
    assert CatalogueEntry.objects.get(item=third).index_number == f"C-TOUR-{year}-GZDT3"


def test_it_takes_index_numbers_one_after_another_under_concurrent_publishing(cluster: Cluster) -> None:
    from zhengwu.disclosure.models import SequenceCounter

    unit = cluster.cast.outsider_unit
    category = services.categories_ensure()["GZDT"]
    numbers = [services.index_number_make(unit=unit, category=category, year=2026) for _ in range(5)]
    assert numbers == [f"C-TOUR/GZDT-2026-{n:05d}" for n in range(1, 6)]
    assert SequenceCounter.objects.get(unit=unit, scope="GZDT", year=2026).last == 5


def test_it_removes_a_withdrawn_item_and_relists_it_with_the_same_number(
    cluster: Cluster, client: Any
) -> None:
    item = _publish(cluster, "关于公布2026年度文物保护单位名单的通知")
    entry = CatalogueEntry.objects.get(item=item)
    number = entry.index_number
    assert number in client.get("/disclosure/").content.decode()
    portal_services.item_withdraw(actor=cluster.dept_reviewer, item=item, reason="error", note="名单有误")
    entry.refresh_from_db()
    assert not entry.is_listed and entry.removed_at is not None
    page = client.get("/disclosure/").content.decode()
    assert number not in page
    assert client.get(f"/disclosure/entries/{entry.pk}/").status_code == 404
    assert client.get("/disclosure/", {"q": "文物保护"}).content.decode().count(number) == 0
    # Corrected and published again: back in the catalogue under the same index number.
    portal_services.item_update(
        actor=cluster.dept_editor,
        item=item,
        values={
            "title": "关于公布2026年度文物保护单位名单的通知（更正）",
            "kind": "article",
            "column": cluster.dept_news,
            "body": "更正后的名单。",
        },
    )
    portal_services.item_submit(actor=cluster.dept_editor, item=item)
    portal_services.item_approve(actor=cluster.dept_reviewer, item=item)
    entry.refresh_from_db()
    assert entry.is_listed and entry.index_number == number and entry.title.endswith("（更正）")
    assert CatalogueEntry.objects.filter(item=item).count() == 1


def test_it_browses_by_unit_and_category_and_searches_inside_the_catalogue(
    cluster: Cluster, client: Any
) -> None:
    tourism = _publish(
        cluster, "关于印发崆峒山景区旅游服务规范的通知", "为规范景区旅游服务，提升游客满意度。"
    )
    county = publish(
        cluster.county_editor,
        cluster.county_reviewer,
        cluster.county,
        cluster.county_news,
        "崆峒区召开防汛工作会议",
    )
    t_entry, c_entry = CatalogueEntry.objects.get(item=tourism), CatalogueEntry.objects.get(item=county)
    page = client.get("/disclosure/", {"unit": cluster.cast.outsider_unit.pk}).content.decode()
    assert t_entry.index_number in page and c_entry.index_number not in page
    assert "平凉市文化和旅游局" in page and "崆峒区人民政府" in page  # both units listed for browsing
    other = Category.objects.get(code="QT")  # 崆峒要闻 (ktyw) matches no category slug
    assert c_entry.category == other
    page = client.get("/disclosure/", {"category": other.pk}).content.decode()
    assert c_entry.index_number in page and t_entry.index_number not in page
    # Search: a Chinese word inside the body, limited to the catalogue and the unit chosen.
    found = client.get("/disclosure/", {"q": "满意度"}).content.decode()
    assert t_entry.index_number in found and c_entry.index_number not in found
    found = client.get("/disclosure/", {"q": "满意度", "unit": cluster.cast.county_a_gov.pk}).content.decode()
    assert t_entry.index_number not in found
    found = client.get("/disclosure/", {"q": c_entry.index_number}).content.decode()
    assert "崆峒区召开防汛工作会议" in found
    detail = client.get(f"/disclosure/entries/{t_entry.pk}/")
    assert detail.status_code == 200 and t_entry.index_number in detail.content.decode()


def test_it_catalogues_items_published_in_bulk(cluster: Cluster) -> None:
    ids = portal_services.items_bulk_publish(
        actor=cluster.main_editor,
        rows=[
            {
                "site": cluster.main,
                "column": cluster.main_news,
                "title": f"要闻{i}",
                "body": "正文",
                "kind": "article",
            }
            for i in range(3)
        ]
        + [
            {
                "site": cluster.main,
                "column": cluster.main_news,
                "title": "依申请公开的信息",
                "body": "正文",
                "kind": "article",
                "disclosure": "on_request",
                "disclosure_reason": "涉及第三方",
            }
        ],
        regenerate=False,
    )
    entries = CatalogueEntry.objects.filter(item_id__in=ids)
    assert entries.count() == 3  # the on-request item is not in the catalogue
    assert len({e.index_number for e in entries}) == 3


def test_it_lets_the_unit_edit_an_entry_but_not_another_unit(cluster: Cluster, client_for: Any) -> None:
    item = _publish(cluster, "文旅局机构职能")
    entry = CatalogueEntry.objects.get(item=item)
    organs = services.categories_ensure()["JGZN"]
    outsider_unit_reviewer = client_for(cluster.dept_reviewer)
    response = outsider_unit_reviewer.post(
        f"/disclosure/entries/{entry.pk}/edit/", {"category": organs.pk, "subject_words": "机构 职能，文旅"}
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.category == organs and entry.subject_words == "机构 职能 文旅"
    other = client_for(cluster.county_reviewer)
    assert other.post(f"/disclosure/entries/{entry.pk}/edit/", {"category": organs.pk}).status_code == 404
    assert other.get(f"/disclosure/entries/{entry.pk}/edit/").status_code == 404
    assert client_for(cluster.dept_reviewer).get("/disclosure/", {"q": "文旅"}).status_code == 200


def test_it_lets_only_the_system_admin_edit_the_category_tree(cast: Any, client_for: Any) -> None:
    services.categories_ensure()
    admin = client_for(cast.system_admin)
    response = admin.post(
        "/disclosure/manage/settings/", {"what": "category", "name": "重点领域", "code": "zdly", "sort": "5"}
    )
    assert response.status_code == 302 and Category.objects.filter(code="ZDLY", name="重点领域").exists()
    response = admin.post(
        "/disclosure/manage/settings/", {"what": "category", "name": "重复", "code": "ZDLY"}
    )
    assert response.status_code == 400 and "分类代码已被使用" in response.content.decode()
    assert client_for(cast.township_clerk).get("/disclosure/manage/settings/").status_code == 403


def test_it_leads_citizens_from_the_portal_home_to_the_catalogue_and_the_application(client: Any) -> None:
    page = client.get("/").content.decode()
    assert 'href="/disclosure/"' in page and 'href="/disclosure/apply/"' in page
    assert client.get("/disclosure/apply/").status_code == 302  # sign in first
