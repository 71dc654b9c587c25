"""The sensitive-word list (敏感词库): one-pass matching, normalisation, editing by its keepers only."""

from __future__ import annotations

import random
from typing import Any

import pytest

from zhengwu.core.models import AuditEvent
from zhengwu.portal.models import SensitiveWord, WordLevel
from zhengwu.portal.sensitive import Matcher, check
from zhengwu.portal.tests.factories import Cluster


def test_it_finds_every_listed_word_including_overlapping_ones() -> None:
    matcher = Matcher(
        {"he": "block", "she": "block", "his": "flag", "hers": "block", "赌博": "block", "博彩": "flag"}
    )
    assert matcher.find("ushers") == {"he": "block", "she": "block", "hers": "block"}
    assert matcher.find("网络赌博彩票") == {"赌博": "block", "博彩": "flag"}
    assert matcher.find("干干净净的一段话") == {}


def test_it_sees_through_spaces_symbols_full_width_and_case() -> None:
    matcher = Matcher({"赌博网站": "block", "vpn": "flag"})
    for text in ["赌 博 网 站", "赌*博*网*站", "赌\u200b博网站", "免费ＶＰＮ下载", "Free VpN"]:
        assert matcher.find(text), text


def test_it_agrees_with_a_plain_substring_search_on_random_text() -> None:
    rng = random.Random(7)
    alphabet = "政务公开赌博网站审批县区乡镇"
    words = {"".join(rng.choice(alphabet) for _ in range(rng.randint(2, 4))): "block" for _ in range(60)}
    matcher = Matcher(words)
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        assert set(matcher.find(text)) == {w for w in words if w in text}


@pytest.mark.django_db
def test_it_follows_the_list_as_it_is_edited() -> None:
    word = SensitiveWord.objects.create(word="违禁词甲", level=WordLevel.BLOCK)
    assert check("含有违禁词甲的句子").blocked == ["违禁词甲"]
    word.level = WordLevel.FLAG
    word.save()
    result = check("含有违禁词甲的句子")
    assert result.blocked == [] and result.flagged == ["违禁词甲"]
    word.delete()
    assert check("含有违禁词甲的句子").flagged == []


@pytest.mark.django_db
def test_only_the_lists_keepers_edit_it_and_bad_input_is_refused(cluster: Cluster, client_for: Any) -> None:
    c = cluster
    assert client_for(c.dept_editor).get("/cms/words/").status_code == 404
    keeper = client_for(c.main_reviewer)
    assert keeper.post("/cms/words/", {"word": "  ", "level": "block"}).status_code == 400
    assert keeper.post("/cms/words/", {"word": "某违禁词", "level": "nonsense"}).status_code == 400
    assert not SensitiveWord.objects.exists()
    assert keeper.post("/cms/words/", {"word": "某违禁词", "level": "block"}).status_code == 302
    duplicate = keeper.post("/cms/words/", {"word": "某违禁词", "level": "flag"})
    assert duplicate.status_code == 400 and "词库中已有该词" in duplicate.content.decode()
    word = SensitiveWord.objects.get()
    assert client_for(c.dept_editor).post(f"/cms/words/{word.pk}/remove/").status_code == 404
    assert keeper.post(f"/cms/words/{word.pk}/", {"level": "bogus", "is_active": "1"}).status_code == 400
    assert keeper.post(f"/cms/words/{word.pk}/", {"level": "flag", "is_active": "1"}).status_code == 302
    word.refresh_from_db()
    assert word.level == WordLevel.FLAG
    assert keeper.post(f"/cms/words/{word.pk}/remove/").status_code == 302
    assert not SensitiveWord.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="portal.word.").values_list("action", flat=True)
    ) == [
        "portal.word.add",
        "portal.word.update",
        "portal.word.remove",
    ]
