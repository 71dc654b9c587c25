"""Sensitive-word check (敏感词检查) with an Aho-Corasick automaton.

One pass over the text finds every listed word, however many words the list holds, so a long article
is checked in time proportional to its length. The automaton is rebuilt only when the list changes.
Text is normalised first (NFKC, case folded, spaces, zero-width characters and filler symbols removed)
so "敏 感 词" and "敏*感*词" are caught as well.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import deque
from dataclasses import dataclass

from django.db.models import Count, Max

_NOISE = re.compile(r"[\s\u200b-\u200f\u2060\ufeff*#@·•._\-|/\\~^`'\"]+")


def normalise(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).casefold())


class Matcher:
    """An Aho-Corasick automaton over a fixed word list."""

    def __init__(self, words: dict[str, str]) -> None:
        # goto[state] maps a character to the next state; out[state] lists the words ending there.
        self.goto: list[dict[str, int]] = [{}]
        self.fail: list[int] = [0]
        self.out: list[list[str]] = [[]]
        self.levels: dict[str, str] = {}
        for word, level in words.items():
            key = normalise(word)
            if not key:
                continue
            self.levels[key] = level
            state = 0
            for ch in key:
                nxt = self.goto[state].get(ch)
                if nxt is None:
                    nxt = len(self.goto)
                    self.goto.append({})
                    self.fail.append(0)
                    self.out.append([])
                    self.goto[state][ch] = nxt
                state = nxt
            self.out[state].append(key)
        queue: deque[int] = deque(self.goto[0].values())
        while queue:
            state = queue.popleft()
            for ch, nxt in self.goto[state].items():
                queue.append(nxt)
                f = self.fail[state]
                while f and ch not in self.goto[f]:
                    f = self.fail[f]
                target = self.goto[f].get(ch, 0)
                self.fail[nxt] = target if target != nxt else 0
                self.out[nxt] = self.out[nxt] + self.out[self.fail[nxt]]

    def find(self, text: str) -> dict[str, str]:
        """{word: level} for every listed word in the text."""
        found: dict[str, str] = {}
        goto, fail, out = self.goto, self.fail, self.out
        state = 0
        for ch in normalise(text):
            while state and ch not in goto[state]:
                state = fail[state]
            state = goto[state].get(ch, 0)
            if out[state]:
                for word in out[state]:
                    found[word] = self.levels[word]
        return found


@dataclass
class CheckResult:
    blocked: list[str]
    flagged: list[str]


_lock = threading.Lock()
_cached: tuple[tuple[int, object], Matcher] | None = None


def current_matcher() -> Matcher:
    """The automaton for the active word list, rebuilt when a word is added, changed or removed."""
    global _cached
    from zhengwu.portal.models import SensitiveWord

    active = SensitiveWord.objects.filter(is_active=True)
    stats = active.aggregate(n=Count("id"), last=Max("updated_at"))
    signature = (stats["n"] or 0, stats["last"])
    with _lock:
        if _cached is not None and _cached[0] == signature:
            return _cached[1]
    matcher = Matcher(dict(active.values_list("word", "level")))
    with _lock:
        _cached = (signature, matcher)
    return matcher


def check(*texts: str) -> CheckResult:
    from zhengwu.portal.models import WordLevel

    # A NUL between texts is kept by normalise(), so no word is "found" across two fields.
    found = current_matcher().find("\x00".join(texts))
    blocked = sorted(w for w, level in found.items() if level == WordLevel.BLOCK)
    flagged = sorted(w for w, level in found.items() if level != WordLevel.BLOCK)
    return CheckResult(blocked=blocked, flagged=flagged)
