"""Chinese full-text search: words inside longer text, title weighting, filters, snippets, pages."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone

from zhengwu.portal import search as search_module
from zhengwu.portal import services
from zhengwu.portal.models import Item, SearchEntry
from zhengwu.portal.search import PART_CHARS, parse_query, search, tokens
from zhengwu.portal.tests.factories import Cluster, publish

pytestmark = pytest.mark.django_db

_WORDS = (
    "各县区 县区 行政审批 审批 制度改革 政务公开 人民政府 乡镇 村委会 信息化 电子政务 平凉市 崆峒区 泾川县 "
    "办事指南 服务事项 网上办理 公共服务 统一平台 数据共享 考核评比 政民互动 领导信箱 在线访谈 公文交换 签收 "
    "督查督办 重点工作 应急管理 安全生产 乡村振兴 生态环境 文化旅游 养生平凉 招商引资 营商环境 民生实事 "
    "医疗保障 教育 就业 社会保障 住房 交通 水利 农业农村 科技创新 工业 统计 财政预算 审计 市场监管 "
    "自然资源 规划 的 和 在 要 进一步 加强 推进 落实 全面 工作 会议 召开 部署 提升 完善 建设 开展 坚持 深化 "
    "各级 部门 单位 区政府 县政府 政府 服务 中心 窗口 群众 企业 办理 时限 承诺"
)
VOCABULARY = _WORDS.split()


def _text(rng: random.Random, words: int) -> str:
    out = []
    for i in range(words):
        out.append(rng.choice(VOCABULARY))
        if i % 9 == 8:
            out.append(rng.choice("，。；"))
    return "".join(out)


def _pub(c: Cluster, title: str, body: str, **values: Any) -> Item:
    return publish(
        c.dept_editor, c.dept_reviewer, c.dept, values.pop("column", c.dept_news), title, body, **values
    )


def test_it_indexes_chinese_as_overlapping_pairs_so_no_word_boundary_hides_a_word() -> None:
    assert tokens("各县区要加强5G建设") == ["各县", "县区", "区要", "要加", "加强", "强", "5g", "建设", "设"]
    assert [p.tokens for p in parse_query("县区")] == [("县区",)]
    assert [p.tokens for p in parse_query("县")] == [("县",)] and parse_query("县")[0].prefix


def test_it_finds_words_inside_longer_text(cluster: Cluster) -> None:
    c = cluster
    item = _pub(c, "全市政务服务工作会议召开", "会议要求各县区政府进一步优化营商环境。")
    _pub(c, "无关的信息", "今天天气晴朗。")
    for word in ["县区", "区政", "各县区政府", "营商环境", "优化营商", "县"]:
        result = search(word)
        assert [h.item_id for h in result.hits] == [item.pk], word
    assert search("县区政府 营商").total == 1  # every word must be present
    assert search("县区 天气").total == 0


def test_it_recalls_what_like_finds_for_words_inside_longer_text(cluster: Cluster) -> None:
    """Against SQL LIKE on the same text: at least 99% of LIKE's hits, for words and for arbitrary
    substrings that straddle word boundaries (县区 in 各县区, 区政 in 区政府)."""
    c = cluster
    rng = random.Random(20261122)
    bodies = []
    for i in range(120):
        body = _text(rng, rng.randint(40, 160))
        bodies.append(body)
        _pub(c, f"{_text(rng, 3)}第{i}号", body)
    queries = rng.sample(VOCABULARY, 40)
    for _ in range(40):
        body = rng.choice(bodies)
        start = rng.randrange(0, len(body) - 4)
        piece = body[start : start + rng.choice([2, 3, 4])]
        if all("\u4e00" <= ch <= "\u9fff" for ch in piece):
            queries.append(piece)
    truth_total = found_total = 0
    for q in queries:
        truth = set(
            Item.objects.filter(Q(title__contains=q) | Q(body__contains=q)).values_list("pk", flat=True)
        )
        found = {h.item_id for h in search(q, per_page=500).hits}
        truth_total += len(truth)
        found_total += len(truth & found)
    assert truth_total > 500
    assert found_total / truth_total >= 0.99, (found_total, truth_total)


def test_it_ranks_a_title_hit_above_body_mentions(cluster: Cluster) -> None:
    c = cluster
    body_only = _pub(
        c, "全市农业生产情况通报", "乡村振兴工作有序推进，乡村振兴成效明显。" + "农业生产稳定。" * 30
    )
    in_title = _pub(c, "乡村振兴工作推进会召开", "会议部署了下一阶段工作。" + "农业生产稳定。" * 30)
    hits = search("乡村振兴").hits
    assert [h.item_id for h in hits] == [in_title.pk, body_only.pk]
    assert hits[0].score > hits[1].score


def test_it_filters_by_site_column_kind_and_date(cluster: Cluster) -> None:
    c = cluster
    news = _pub(c, "文旅动态：景区开放", "景区开放时间调整。")
    notice = _pub(
        c,
        "通知：景区开放安排",
        "景区开放安排。",
        column=c.dept_notices,
        kind="document",
        document_number="平文旅发〔2026〕3号",
        issuing_unit="平凉市文化和旅游局",
    )
    county = publish(
        c.county_editor, c.county_reviewer, c.county, c.county_news, "崆峒区景区开放", "景区开放。"
    )
    SearchEntry.objects.filter(item=county).update(date=dt.date(2025, 1, 10))
    assert search("景区开放").total == 3
    assert {h.item_id for h in search("景区开放", site_id=c.dept.pk).hits} == {news.pk, notice.pk}
    assert {h.item_id for h in search("景区开放", column_ids=[c.dept_notices.pk]).hits} == {notice.pk}
    assert {h.item_id for h in search("景区开放", kind="document").hits} == {notice.pk}
    assert {h.item_id for h in search("景区开放", date_to=dt.date(2025, 12, 31)).hits} == {county.pk}
    assert county.pk not in {h.item_id for h in search("景区开放", date_from=dt.date(2026, 1, 1)).hits}
    assert {h.item_id for h in search("平文旅发").hits} == {notice.pk}  # the document number is searchable


def test_it_highlights_the_words_in_title_and_snippet(cluster: Cluster) -> None:
    c = cluster
    lead = "这是一段很长的开头。" * 20
    _pub(c, "各县区推进政务公开", lead + "各县区要把政务公开<b>落到实处</b>。")
    hit = search("政务公开").hits[0]
    assert "<mark>政务公开</mark>" in hit.title_html
    assert "<mark>政务公开</mark>" in hit.snippet_html and hit.snippet_html.startswith("…")
    assert "<b>" not in hit.snippet_html  # tags of the body never reach the snippet


def test_it_pages_through_many_hits_best_first(cluster: Cluster) -> None:
    c = cluster
    for i in range(25):
        _pub(c, f"第{i}次安全生产检查", "安全生产" * (i + 1))
    first = search("安全生产", per_page=10)
    last = search("安全生产", per_page=10, page=3)
    assert first.total == 25 and first.num_pages == 3 and len(first.hits) == 10 and len(last.hits) == 5
    scores = [h.score for h in search("安全生产", per_page=25).hits]
    assert scores == sorted(scores, reverse=True)
    beyond = search("安全生产", per_page=10, page=9)
    assert beyond.total == 25 and beyond.hits == []
    newest = search("安全生产", order="date", per_page=1).hits[0]
    assert newest.title == "第24次安全生产检查"


def test_it_finds_words_anywhere_in_a_very_long_document(cluster: Cluster) -> None:
    c = cluster
    filler = "本条例所称政府信息，是指行政机关在履行行政管理职能过程中制作或者获取的信息。"
    body = filler * (3 * PART_CHARS // len(filler))
    cut = PART_CHARS - 2  # a word straddling the first part boundary
    body = body[:cut] + "黄河流域" + body[cut:] + "末尾的独特词语宝塔山"
    item = _pub(c, "政府信息公开条例全文", body)
    assert SearchEntry.objects.get(item=item).parts >= 3
    assert [h.item_id for h in search("黄河流域").hits] == [item.pk]
    assert [h.item_id for h in search("宝塔山").hits] == [item.pk]


def test_it_drops_a_withdrawn_item_and_refinds_it_when_republished(cluster: Cluster) -> None:
    c = cluster
    item = _pub(c, "招聘公告", "公开招聘工作人员。")
    services.item_withdraw(actor=c.dept_reviewer, item=item, reason="error", note="有误")
    assert search("招聘").total == 0
    services.item_update(
        actor=c.dept_editor,
        item=item,
        values={"kind": "article", "column": c.dept_news, "title": "招聘公告（更正）", "body": "公开招聘。"},
    )
    services.item_submit(actor=c.dept_editor, item=item)
    services.item_approve(actor=c.dept_reviewer, item=item)
    assert [h.title for h in search("招聘").hits] == ["招聘公告（更正）"]


def test_the_search_page_shows_highlighted_hits_and_tolerates_bad_filters(
    cluster: Cluster, client: Any
) -> None:
    c = cluster
    _pub(c, "养生平凉文化旅游节", "养生平凉品牌活动。")
    page = client.get(
        "/search/", {"q": "养生", "site": "wlj", "page": "x", "from": "2026-99-01", "kind": "bogus"}
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "<mark>养生</mark>" in text and "找到约 1 条结果" in text
    assert client.get("/search/", {"q": "完全不存在的词语组合"}).content.decode().count('class="hit"') == 0
    assert client.get("/search/").status_code == 200


def test_it_treats_query_syntax_as_plain_words(cluster: Cluster) -> None:
    c = cluster
    _pub(c, "数据共享", "政务数据共享交换。")
    for q in [
        '"',
        "AND OR NOT",
        "*",
        "数据 OR",
        "NEAR(数据)",
        "'; DROP TABLE portal_item; --",
        "数据\x00共享",
    ]:
        result = search(q)
        assert result.total >= 0
    assert search('"数据共享"').total == 1
    assert search_module.fts5_match(parse_query("a AND b")) == '"a" AND "and" AND "b"'


def test_it_reads_only_the_newest_window_of_hits_and_says_there_are_more(cluster: Cluster) -> None:
    c = cluster
    items = [_pub(c, f"第{i}期工作简报", f"本期重点：防汛抗旱。第{i}期。") for i in range(6)]
    titled = _pub(c, "防汛抗旱工作部署", "全市防汛抗旱工作会议召开。")
    everything = search("防汛抗旱")
    assert everything.total == 7 and not everything.capped
    bounded = search("防汛抗旱", window=4)
    assert bounded.capped and bounded.total == 4
    # The four newest matches, the one with the word in its title first, then the newest.
    assert [h.item_id for h in bounded.hits] == [titled.pk, items[5].pk, items[4].pk, items[3].pk]
    by_date = search("防汛抗旱", window=4, order="date")
    assert [h.item_id for h in by_date.hits] == [titled.pk, items[5].pk, items[4].pk, items[3].pk]
    # Filters are applied inside the window, so a filtered search still fills its page.
    older = search("防汛抗旱", window=2, date_to=timezone.localdate(), kind="article")
    assert older.capped and len(older.hits) == 2


def test_it_tells_the_reader_when_a_word_has_more_hits_than_it_shows(cluster: Cluster, client: Any) -> None:
    c = cluster
    for i in range(3):
        _pub(c, f"第{i}期简报", "防汛抗旱。")
    page = client.get("/search/", {"q": "防汛抗旱"})
    assert "找到约 3 条结果" in page.content.decode()
    search_module.WINDOW, saved = 2, search_module.WINDOW
    try:
        # The view passes no window of its own: the module's default bounds it.
        page = client.get("/search/", {"q": "防汛抗旱"})
    finally:
        search_module.WINDOW = saved
    assert "找到 2 条以上结果" in page.content.decode()


def test_it_shows_a_long_word_only_where_it_stands_whole(cluster: Cluster) -> None:
    c = cluster
    # 黄河流 and 河流域 both occur, 黄河流域 does not: PostgreSQL's trigram lexemes make it a candidate,
    # the page confirms the word in the text; SQLite's phrase never matches it.
    apart = _pub(c, "沿河调研", "黄河流经本市。河流域外的村庄也受益。")
    whole = _pub(c, "黄河流域生态保护", "推进黄河流域生态保护和高质量发展。")
    assert [h.item_id for h in search("黄河流域").hits] == [whole.pk]
    assert apart.pk in {h.item_id for h in search("黄河").hits}


def test_it_matches_long_words_by_trigrams_on_postgresql() -> None:
    phrases = [search_module._phrase(w) for w in ("黄河流域", "审批", "2026年")]
    assert search_module.pg_tsquery([p for p in phrases if p is not None]) == (
        "('~河流域' & '~黄河流') & ('审批') & ('2026' <-> '年':*)"
    )
    assert search_module.trigrams("推进黄河流域，A") == {"推进黄", "进黄河", "黄河流", "河流域"}


def test_it_finds_a_word_ending_in_digits_and_a_character(cluster: Cluster) -> None:
    # The lone last character is a prefix inside a phrase (第2号 → 第 2 号*): on PostgreSQL the trigram
    # lexemes (号的正 …) must not be among what the prefix matches.
    item = _pub(cluster, "工作动态第2号", "第2号的正文。")
    assert [h.item_id for h in search("工作动态第2号").hits] == [item.pk]
    assert [h.item_id for h in search("第2号").hits] == [item.pk]
