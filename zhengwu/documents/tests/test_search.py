"""公文检索: title words and document numbers through the search index, within the user's units."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone

from zhengwu.core.models import Unit
from zhengwu.documents import search, services
from zhengwu.documents.models import Document, DocumentReceipt, DocumentStatus, ReceiptState
from zhengwu.documents.tests.conftest import Office, draft_notice, send_notice

pytestmark = pytest.mark.django_db


def _titles(user_client: Any, q: str) -> list[str]:
    import re

    response = user_client.get("/documents/search/", {"q": q})
    assert response.status_code == 200
    rows = re.findall(
        r'<tr data-testid="search-row"><td><a href="([^"]+)">(.*?)</a>', response.content.decode()
    )
    return [re.sub(r"</?mark>", "", title) + " @" + url for url, title in rows]


def test_it_finds_a_sent_notice_by_title_words_for_its_sender_and_recipients(
    office: Office, client_for: Any
) -> None:
    doc = send_notice(office, title="关于做好春季森林防火工作的通知")
    send_notice(office, title="关于开展安全生产大检查的通知")
    receipt = DocumentReceipt.objects.get(document=doc, unit=office.cast.county_a_gov)
    assert _titles(client_for(office.drafter), "森林防火") == [f"{doc.title} @/documents/{doc.pk}/"]
    assert _titles(client_for(office.clerk_a), "防火 春季") == [
        f"{doc.title} @/documents/incoming/{receipt.pk}/"
    ]
    page = client_for(office.clerk_a).get("/documents/search/", {"q": "森林防火"}).content.decode()
    assert "<mark>森林防火</mark>" in page and "找到 1 件" in page
    # Units it was not sent to find nothing, however they ask.
    for user in (office.cast.township_clerk, office.cast.outsider):
        assert _titles(client_for(user), "森林防火") == []
        assert _titles(client_for(user), doc.document_number) == []


def test_it_finds_a_draft_only_in_the_drafting_unit(office: Office, client_for: Any) -> None:
    doc = draft_notice(office, title="关于调整防汛抗旱指挥部成员的通知")
    assert [t.split(" @")[0] for t in _titles(client_for(office.drafter), "防汛抗旱")] == [doc.title]
    assert _titles(client_for(office.clerk_a), "防汛抗旱") == []


def test_it_finds_a_whole_number_through_the_number_index(office: Office, client_for: Any) -> None:
    doc = send_notice(office, title="关于印发应急预案的通知")
    assert doc.document_number.startswith("平政发〔")
    client = client_for(office.clerk_a)
    assert [t.split(" @")[0] for t in _titles(client, doc.document_number)] == [doc.title]
    typed = doc.document_number.replace("〔", "[").replace("〕", "]")  # typed with square brackets
    assert [t.split(" @")[0] for t in _titles(client, typed)] == [doc.title]
    result = search.document_search([office.cast.county_a_gov.pk], doc.document_number)
    assert result.by_number and result.count == 1


def test_it_drops_a_recalled_copy(office: Office, client_for: Any) -> None:
    doc = send_notice(office, title="关于召开全市信访工作会议的通知")
    a, b = office.cast.county_a_gov, office.cast.county_b_gov
    services.document_recall(actor=office.drafter, document=doc, unit_ids=[b.pk])
    assert DocumentReceipt.objects.get(document=doc, unit=b).state == ReceiptState.RECALLED
    assert _titles(client_for(office.clerk_b), "信访工作") == []
    assert len(_titles(client_for(office.clerk_a), "信访工作")) == 1
    assert a.pk != b.pk


@pytest.mark.parametrize(
    ("query", "message"), [("防" * 101, "不能超过 100 个字"), ("防火&before=abc", "翻页参数无效")]
)
def test_it_refuses_bad_input_with_a_message(
    office: Office, client_for: Any, query: str, message: str
) -> None:
    q, _sep, before = query.partition("&before=")
    params = {"q": q, **({"before": before} if before else {})}
    response = client_for(office.clerk_a).get("/documents/search/", params)
    assert response.status_code == 400 and message in response.content.decode()


VOCAB = [
    "森林防火", "安全生产", "防汛抗旱", "乡村振兴", "营商环境", "财政预算", "人事任免", "会议纪要",
    "信访维稳", "春季", "全市", "各县区", "政务公开", "通知", "意见", "报告", "批复", "请示", "检查",
    "防", "火", "县区政府", "工作", "方案",
]  # fmt: skip


def _corpus(units: list[Unit], creator: Any, n: int = 400) -> list[Document]:
    """n documents with titles joined from the vocabulary, each from one unit to one or two others."""
    rng = random.Random("zhengwu-search-recall")
    docs = Document.objects.bulk_create(
        [
            Document(
                unit=units[i % len(units)],
                doc_type="notice",
                status=DocumentStatus.SENT,
                number_code="测试发",
                number_year=2026,
                number_seq=i + 1,
                document_number=f"测试发〔2026〕{i + 1}号",
                title="关于"
                + "".join(rng.sample(VOCAB, rng.randint(1, 4)))
                + "的"
                + rng.choice(["通知", "意见", "报告"]),
                created_by=creator,
            )
            for i in range(n)
        ]
    )
    docs = list(Document.objects.filter(number_code="测试发").order_by("pk"))
    receipts = []
    now = timezone.now()
    for i, doc in enumerate(docs):
        others = [u for u in units if u.pk != doc.unit_id]
        for unit in rng.sample(others, 1 + i % 2):
            receipts.append(
                DocumentReceipt(
                    document=doc, unit=unit, state=ReceiptState.DELIVERED, title=doc.title,
                    document_number=doc.document_number, doc_type="notice", sender_name="x",
                    sent_at=now, first_sent_at=now,
                )
            )  # fmt: skip
    DocumentReceipt.objects.bulk_create(receipts)
    for doc in docs:
        search.document_index(doc)
    return docs


def _all_ids(unit_ids: list[int], q: str) -> set[int]:
    found: set[int] = set()
    before = None
    while True:
        page = search.document_search(unit_ids, q, before=before, per_page=100, with_count=False)
        found |= {h.document.pk for h in page.hits}
        if page.next_before is None:
            return found
        before = page.next_before


def _like_ids(unit_ids: list[int], q: str) -> set[int]:
    visible = Document.objects.filter(
        Q(unit_id__in=unit_ids)
        | Q(pk__in=DocumentReceipt.objects.filter(unit_id__in=unit_ids).values("document_id"))
    )
    for word in q.split():
        visible = visible.filter(Q(title__contains=word) | Q(document_number__contains=word))
    return set(visible.values_list("pk", flat=True))


def test_it_finds_exactly_what_like_finds_for_title_words(cast: Any) -> None:
    units = [cast.city_gov, cast.county_a_gov, cast.county_b_gov, cast.township_a1_gov]
    _corpus(units, cast.city_clerk)
    words = sorted({w[i:j] for w in VOCAB for i in range(len(w)) for j in range(i + 1, len(w) + 1)})
    words += ["关于", "的通知", "森林防火 通知", "安全 生产", "全市 乡村振兴 意见", "测试发", "2026"]
    checked = 0
    for scope in ([units[1].pk], [units[0].pk], [units[2].pk, units[3].pk]):
        for q in words:
            expected = _like_ids(scope, q)
            assert _all_ids(scope, q) == expected, q
            checked += len(expected)
    assert checked > 5000  # the words do hit many documents, so the comparison means something


def test_it_pages_newest_first_and_counts(cast: Any) -> None:
    units = [cast.city_gov, cast.county_a_gov, cast.county_b_gov, cast.township_a1_gov]
    _corpus(units, cast.city_clerk)
    first = search.document_search([units[0].pk], "通知", per_page=10)
    ids = [h.document.pk for h in first.hits]
    assert ids == sorted(ids, reverse=True) and len(ids) == 10
    assert first.count == len(_like_ids([units[0].pk], "通知"))
    second = search.document_search([units[0].pk], "通知", per_page=10, before=first.next_before)
    assert max(h.document.pk for h in second.hits) < min(ids)


def test_it_keeps_the_index_with_the_documents_after_a_rebuild_and_a_delete(cast: Any) -> None:
    units = [cast.city_gov, cast.county_a_gov, cast.county_b_gov, cast.township_a1_gov]
    docs = _corpus(units, cast.city_clerk, n=50)
    before = _all_ids([units[0].pk], "通知")
    assert search.index_rebuild() == 50
    assert _all_ids([units[0].pk], "通知") == before
    DocumentReceipt.objects.filter(document=docs[0]).delete()
    docs[0].delete()
    search.index_prune()
    assert docs[0].pk not in _all_ids([units[0].pk], "通知")
