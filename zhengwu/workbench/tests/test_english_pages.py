"""Switched to English, the staff pages of each module are in English: no heading, label, button, column
or message is left in Chinese, and no placeholder leaks into the page. What people typed (unit names,
document titles, meeting venues) stays as written."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polib
import pytest
from django.test import Client
from django.urls import reverse

from zhengwu.core.models import Department, Post, Unit, UnitGroup, User
from zhengwu.disclosure import services as disclosure_services
from zhengwu.disclosure.tests.conftest import Desk, submit
from zhengwu.documents.models import DocumentReceipt
from zhengwu.documents.tests.conftest import office_build, send_notice
from zhengwu.meetings.tests.helpers import clerks, make_meeting
from zhengwu.portal.tests.factories import build_cluster
from zhengwu.testing.cast import _staff

pytestmark = pytest.mark.django_db

PO = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES" / "django.po"
HAN = re.compile(r"[\u4e00-\u9fff]")
EDGES = " \t\r\n:：;；,，.。·|/（）()[]【】—-–>›«»"
LEAKS = re.compile(r"%\(\w+\)[sd]|%%|\{\{|\}\}|\{%|%\}")
# An English label followed by the full-width colon of the Chinese page ("Current step："): in English the
# colon belongs inside the translated label ("Current step: ").
WIDE_COLON = re.compile(r"[A-Za-z)]\s*：")


class _Text(HTMLParser):
    """The text a reader sees or hears: text nodes (not scripts or styles) and the labelling attributes."""

    ATTRS = {"placeholder", "aria-label", "title", "alt"}

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        self.chunks += [v for k, v in attrs if k in self.ATTRS and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(data)


@pytest.fixture(scope="module")
def chinese_ui() -> set[str]:
    return {e.msgid for e in polib.pofile(str(PO)) if not e.obsolete and HAN.search(e.msgid)}


def _data() -> set[str]:
    """Names people gave things: these stay Chinese in either language."""
    names: set[str] = set()
    for model, field in (
        (Unit, "name"),
        (Department, "name"),
        (Post, "name"),
        (UnitGroup, "name"),
        (User, "name"),
    ):
        names |= set(model.objects.values_list(field, flat=True))
    return names


def _english(user: User | None = None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    c.cookies["django_language"] = "en"
    return c


def _leftovers(html: str, chinese_ui: set[str]) -> list[str]:
    parser = _Text()
    parser.feed(html)
    data = _data()
    left = []
    for chunk in parser.chunks:
        text = chunk.strip(EDGES)
        if LEAKS.search(chunk):
            left.append(f"placeholder: {chunk.strip()!r}")
        elif WIDE_COLON.search(chunk):
            left.append(f"full-width colon: {chunk.strip()!r}")
        elif text in chinese_ui and text not in data:
            left.append(text)
    return left


def _check(client: Client, url: str, chinese_ui: set[str]) -> None:
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert '<html lang="en"' in html, url
    left = _leftovers(html, chinese_ui)
    assert not left, f"{url} still shows: {left}"


def test_it_shows_the_workbench_and_document_exchange_in_english(
    cast: Any, settings: Any, tmp_path: Path, chinese_ui: set[str]
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    office = office_build(cast)
    doc = send_notice(office)
    receipt = DocumentReceipt.objects.get(document=doc, unit=cast.county_a_gov)
    sender = _english(office.drafter)
    for url in (
        reverse("workbench:home"),
        reverse("documents:index"),
        reverse("documents:new"),
        reverse("documents:stats"),
        reverse("documents:detail", args=[doc.pk]),
        reverse("documents:status", args=[doc.pk]),
    ):
        _check(sender, url, chinese_ui)
    receiver = _english(office.clerk_a)
    for url in (
        reverse("workbench:home"),
        reverse("documents:inbox"),
        reverse("documents:incoming", args=[receipt.pk]),
    ):
        _check(receiver, url, chinese_ui)
    page = receiver.get(reverse("documents:inbox")).content.decode()
    assert "To receive" in page and doc.title in page
    # Registered and under way: the record page and the step's page, labels with their colons.
    from zhengwu.documents import services as documents_services
    from zhengwu.flow.models import Task

    receipt = documents_services.receipt_receive(actor=office.clerk_a, receipt=receipt)
    record = documents_services.incoming_register(actor=office.clerk_a, receipt=receipt)
    step = Task.objects.get(instance_id=record.instance_id, status="open")
    # (Step names come from the process definition, as its author wrote them: only the colons are checked.)
    for url in (
        reverse("documents:incoming", args=[receipt.pk]),
        reverse("flow:task_detail", args=[step.pk]),
    ):
        parser = _Text()
        parser.feed(receiver.get(url).content.decode())
        assert not [c for c in parser.chunks if WIDE_COLON.search(c)], url
    page = receiver.get(reverse("documents:incoming", args=[receipt.pk])).content.decode()
    assert "Receiving number: " in page and "Handling steps: " in page


def test_it_shows_meeting_notices_in_english(cast: Any, chinese_ui: set[str]) -> None:
    unit_clerks = clerks(cast)
    meeting = make_meeting(cast)
    organizer = _english(cast.city_clerk)
    for url in (
        reverse("meetings:list"),
        reverse("meetings:new"),
        reverse("meetings:manage", args=[meeting.pk]),
        reverse("meetings:checkin", args=[meeting.pk]),
    ):
        _check(organizer, url, chinese_ui)
    invited = _english(unit_clerks["info"])
    register = reverse("meetings:register", args=[meeting.pk, cast.city_info_office.pk])
    _check(invited, register, chinese_ui)
    page = invited.get(register).content.decode()
    assert "Submit registration" in page and meeting.title in page


def test_it_shows_information_disclosure_and_the_site_editor_in_english(
    cast: Any, settings: Any, tmp_path: Path, chinese_ui: set[str]
) -> None:
    settings.PUBLISH_ROOT = tmp_path / "published"
    cluster = build_cluster(cast)
    leader = _staff("kt_leader", "马镇长", cast.township_a1_gov, "镇长", ["leader"])
    desk = Desk(cast, cast.township_clerk, leader, cast.citizen, cast.other_township_clerk)
    request = submit(desk)
    disclosure_services.request_register(actor=desk.clerk, request=request)
    for url in (reverse("disclosure:catalogue"), reverse("disclosure:reports")):
        _check(_english(), url, chinese_ui)
    applicant = _english(cast.citizen)
    for url in (
        reverse("disclosure:apply"),
        reverse("disclosure:my_requests"),
        reverse("disclosure:request_detail", args=[request.pk]),
    ):
        _check(applicant, url, chinese_ui)
    clerk = _english(desk.clerk)
    for url in (reverse("disclosure:manage"), reverse("disclosure:request_detail", args=[request.pk])):
        _check(clerk, url, chinese_ui)
    editor = _english(cluster.main_reviewer)
    for url in (
        reverse("portal:cms_home"),
        reverse("portal:cms_site", args=[cluster.main.pk]),
        reverse("portal:cms_site_stats", args=[cluster.main.pk]),
        reverse("portal:cms_scoring"),
    ):
        _check(editor, url, chinese_ui)


def test_it_finds_chinese_left_on_a_page(chinese_ui: set[str]) -> None:
    """The check itself: an untranslated column heading or a leaked placeholder is reported."""
    html = "<table><tr><th>签收率</th><th title='%(n)s 次'>Rate</th></tr></table><p>Current step：拟稿</p>"
    assert _leftovers(html, chinese_ui) == [
        "签收率",
        "placeholder: '%(n)s 次'",
        "full-width colon: 'Current step：拟稿'",
    ]
