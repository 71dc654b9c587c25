"""Chinese full-text search over every site (全文检索), the same behaviour on SQLite and PostgreSQL.

Indexing. Text is normalised (NFKC, lower case) and cut into tokens: a run of Chinese characters
becomes its overlapping character bigrams followed by its last character ("各县区" → 各县 县区 区);
letters and digits form words. A query word is matched as the phrase of its own bigrams, so a word is
found wherever it occurs as a substring — however a word segmenter would have cut the surrounding text
(the 县区-inside-各县区 miss of word-segmented indexes). Queries are cut into words with rjieba, and a
hit must contain every word. Title and body are separate columns, the title weighted ten times.

Storage. SQLite: a contentless FTS5 table (``unicode61`` over the space-joined tokens). PostgreSQL: a
table of ``tsvector`` values built from the same tokens (weights A for the title, D for the body) with a
GIN index. Both tables are keyed by ``item_id * 1000 + part``: long
bodies are split into parts of PART_CHARS characters (overlapping by PART_OVERLAP) because a PostgreSQL
tsvector keeps positions only up to 16,383; all words of a query must fall in one part.

Searching is bounded (ADR 0006): the newest WINDOW matching rows are read in key order, filters
applied in the same statement, and ranked by how many query words their titles hold (a title word
counts ten times a body word), the newest first among equals. Neither bm25 nor ts_rank is used: bm25
counts every row holding each word before ranking one, which grows with the hits, not with the page.

The index is written by the services that publish and withdraw, inside their transaction.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import rjieba
from django.db import connection
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PART_CHARS = 6000
PART_OVERLAP = 64
MAX_PARTS = 999
MAX_TOKEN_LEN = 64
MAX_QUERY_CHARS = 100
MAX_QUERY_WORDS = 8
TITLE_WEIGHT = 10.0
# Trigram lexemes carry no positions and begin with this mark: a prefix query ('号':*) inside a phrase
# would otherwise also match them, and PostgreSQL fails a phrase whose lexeme has no positions.
TRIGRAM_MARK = "~"
WINDOW = 1000  # index rows a query reads at most, newest first: 50 pages of 20 (ADR 0006, bounded search)
FTS_TABLE = "portal_search_fts"
PG_TABLE = "portal_search_doc"

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_TOKEN_RE = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")
_BLOCK_TAGS = re.compile(
    r"<\s*/?\s*(p|div|br|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|section|article|figure|figcaption|img|hr)\b[^>]*>",
    re.I,
)
_CJK_ONLY = re.compile(f"[{_CJK}]+")
_ANY_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")


def html_to_text(value: str) -> str:
    """Plain text of sanitised rich text: block elements become line breaks, inline tags vanish."""
    text = _BLOCK_TAGS.sub("\n", value or "")
    text = html.unescape(_ANY_TAG.sub("", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def tokens(text: str) -> list[str]:
    """Index tokens of a text, in order (see the module docstring)."""
    out: list[str] = []
    for match in _TOKEN_RE.finditer(_normalise(text)):
        run, word = match.group(1), match.group(2)
        if run:
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(run[i : i + 2] for i in range(len(run) - 1))
                out.append(run[-1])
        elif len(word) <= MAX_TOKEN_LEN:
            out.append(word)
    return out


@dataclass(frozen=True)
class Phrase:
    """One query word as index tokens: adjacent, the last one a prefix when it is a lone character."""

    text: str
    tokens: tuple[str, ...]
    prefix: bool


def _phrase(word: str) -> Phrase | None:
    pieces = list(_TOKEN_RE.finditer(word))
    toks: list[str] = []
    prefix = False
    for i, match in enumerate(pieces):
        run, alnum = match.group(1), match.group(2)
        last = i == len(pieces) - 1
        if alnum:
            toks.append(alnum[:MAX_TOKEN_LEN])
            continue
        if len(run) == 1:
            toks.append(run)
            prefix = last  # a lone last character may begin a longer run in the text
            continue
        toks.extend(run[j : j + 2] for j in range(len(run) - 1))
        if not last:  # the run ends here in the text too, so its closing unigram follows
            toks.append(run[-1])
    if not toks:
        return None
    return Phrase(text=word, tokens=tuple(toks), prefix=prefix)


def parse_query(q: str) -> list[Phrase]:
    """The query's words: split on spaces and punctuation, Chinese cut by rjieba.

    Single characters the segmenter leaves on their own are joined to the word before them (or after
    them), so "县区政府" may become 县区 + 政府 but never 县 + 区政府's lone 县.
    """
    text = _normalise(q)[:MAX_QUERY_CHARS]
    words: list[str] = []
    for chunk in re.findall(rf"[{_CJK}\w]+", text):
        chunk = chunk.replace("_", "")
        if not chunk:
            continue
        cut = [w for w in rjieba.cut(chunk) if w.strip()] if re.search(f"[{_CJK}]", chunk) else [chunk]
        merged: list[str] = []
        for w in cut:
            if merged and (len(w) == 1 or len(merged[-1]) == 1):
                merged[-1] += w
            else:
                merged.append(w)
        words.extend(merged)
    phrases: list[Phrase] = []
    seen: set[tuple[str, ...]] = set()
    for w in words:
        phrase = _phrase(w)
        if phrase is not None and phrase.tokens not in seen:
            seen.add(phrase.tokens)
            phrases.append(phrase)
    return phrases[:MAX_QUERY_WORDS]


def fts5_match(phrases: Sequence[Phrase]) -> str:
    parts = []
    for p in phrases:
        quoted = '"' + " ".join(p.tokens) + '"'
        parts.append(quoted + (" *" if p.prefix else ""))
    return " AND ".join(parts)


def _trigram_word(p: Phrase) -> list[str] | None:
    """The trigrams that stand for a word of three or more Chinese characters on PostgreSQL, else None."""
    if p.prefix or len(p.text) < 3 or not _CJK_ONLY.fullmatch(p.text):
        return None
    return sorted({p.text[i : i + 3] for i in range(len(p.text) - 2)})


def pg_tsquery(phrases: Sequence[Phrase]) -> str:
    """The tsquery of a query's words. A word of one or two Chinese characters is one lexeme (a bigram,
    or a prefix); a word of three or more is the AND of its trigrams, which the index holds without
    positions: the GIN index answers both exactly, so no row is read to check a candidate. Only words
    mixing letters or digits with Chinese stay phrases of their tokens (``<->``), rechecked per row."""
    parts = []
    for p in phrases:
        trigrams = _trigram_word(p)
        if trigrams is not None:
            parts.append("(" + " & ".join(f"'{TRIGRAM_MARK}{t}'" for t in trigrams) + ")")
            continue
        toks = [f"'{t}'" for t in p.tokens]
        if p.prefix:
            toks[-1] += ":*"
        parts.append("(" + " <-> ".join(toks) + ")")
    return " & ".join(parts)


# --- Writing the index ------------------------------------------------------------------------------


def _parts(title: str, body: str) -> list[tuple[int, list[str], list[str], str]]:
    """(part number, title tokens, body tokens, the part's text) for each part of a text."""
    title_tokens = tokens(title)
    out: list[tuple[int, list[str], list[str], str]] = []
    start = 0
    part = 0
    while True:
        lo = max(0, start - PART_OVERLAP) if part else 0
        chunk = body[lo : start + PART_CHARS]
        out.append(
            (
                part,
                title_tokens if part == 0 else [],
                tokens(chunk),
                f"{title}\n{chunk}" if part == 0 else chunk,
            )
        )
        start += PART_CHARS
        part += 1
        if start >= len(body) or part >= MAX_PARTS:
            break
    return out


def trigrams(text: str) -> set[str]:
    """The three-character pieces of every Chinese run of a text (PostgreSQL's exact word matching)."""
    out: set[str] = set()
    for match in _TOKEN_RE.finditer(_normalise(text)):
        run = match.group(1)
        if run and len(run) >= 3:
            out.update(run[i : i + 3] for i in range(len(run) - 2))
    return out


def _pg_vector(title_tokens: list[str], body_tokens: list[str], text: str = "") -> str:
    """A tsvector literal with explicit positions and weights (no text-search parser involved), plus the
    text's trigrams as lexemes without positions (see ``pg_tsquery``)."""
    positions: dict[str, list[str]] = {}
    pos = 0
    for tok in title_tokens:
        pos += 1
        if pos > 16383:
            break
        positions.setdefault(tok, []).append(f"{pos}A")
    pos += 1  # a gap, so no phrase runs from the title into the body
    for tok in body_tokens:
        pos += 1
        if pos > 16383:
            break
        positions.setdefault(tok, []).append(str(pos))
    lexemes = [f"'{tok}':{','.join(p[:256])}" for tok, p in positions.items()]
    lexemes.extend(f"'{TRIGRAM_MARK}{tri}'" for tri in sorted(trigrams(text)))
    return " ".join(lexemes)


def text_of(data: dict[str, Any]) -> tuple[str, str]:
    """The searchable title and body of an item version's snapshot."""
    title = " ".join(x for x in (data.get("title", ""), data.get("subtitle", "")) if x)
    body_parts = [
        data.get("summary", ""),
        data.get("document_number", ""),
        data.get("issuing_unit", ""),
        html_to_text(data.get("body", "")),
    ]
    return title, "\n".join(x for x in body_parts if x)


def index_write(item_id: int, data: dict[str, Any]) -> int:
    """Add a version's text to the full-text table; returns the number of parts written."""
    return index_write_many([(item_id, data)])


def index_write_many(versions: Sequence[tuple[int, dict[str, Any]]]) -> int:
    """Add many versions' texts in one round of statements; returns the number of parts written."""
    pg = connection.vendor == "postgresql"
    rows: list[tuple[Any, ...]] = []
    for item_id, data in versions:
        title, body = text_of(data)
        for n, t, b, text in _parts(title, body):
            if pg:
                rows.append((item_id * 1000 + n, item_id, _pg_vector(t, b, text)))
            else:
                rows.append((item_id * 1000 + n, " ".join(t), " ".join(b)))
    with connection.cursor() as cur:
        if pg:
            cur.executemany(f"INSERT INTO {PG_TABLE} (id, item_id, doc) VALUES (%s, %s, %s::tsvector)", rows)
        else:
            cur.executemany(f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (%s, %s, %s)", rows)
    return len(rows)


def index_erase(item_id: int, data: dict[str, Any]) -> None:
    """Remove a version's rows. The SQLite table is contentless: the same tokens are given back."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"DELETE FROM {PG_TABLE} WHERE item_id = %s", [item_id])
            return
        title, body = text_of(data)
        cur.executemany(
            f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, title, body) VALUES ('delete', %s, %s, %s)",
            [(item_id * 1000 + n, " ".join(t), " ".join(b)) for n, t, b, _text in _parts(title, body)],
        )


def index_clear(using: str = "default") -> None:
    from django.db import connections

    conn = connections[using]
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute(f"DELETE FROM {PG_TABLE}")
        else:
            cur.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('delete-all')")


# --- Searching --------------------------------------------------------------------------------------


@dataclass
class Hit:
    item_id: int
    score: float
    title: str
    url: str
    date: date
    kind: str
    kind_label: str
    site_name: str
    column_name: str
    title_html: SafeString
    snippet_html: SafeString


@dataclass
class SearchPage:
    query: str
    words: list[str]
    hits: list[Hit]
    total: int
    page: int
    per_page: int
    capped: bool = False  # more hits than the window holds: ``total`` is the window's count

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _highlighter(words: Iterable[str]) -> re.Pattern[str] | None:
    alternatives = sorted({w for w in words if w}, key=len, reverse=True)
    if not alternatives:
        return None
    return re.compile("|".join(re.escape(w) for w in alternatives), re.I)


def highlight(text: str, pattern: re.Pattern[str] | None) -> SafeString:
    if pattern is None:
        return mark_safe(escape(text))
    out: list[str] = []
    last = 0
    for m in pattern.finditer(text):
        out.append(escape(text[last : m.start()]))
        out.append(f"<mark>{escape(m.group(0))}</mark>")
        last = m.end()
    out.append(escape(text[last:]))
    # Adjacent query words (政务 + 公开) read as one marked phrase.
    return mark_safe("".join(out).replace("</mark><mark>", ""))


def snippet(text: str, pattern: re.Pattern[str] | None, width: int = 120) -> SafeString:
    flat = text.replace("\n", " ")
    m = pattern.search(flat) if pattern is not None else None
    start = max(0, m.start() - width // 3) if m else 0
    piece = flat[start : start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(flat) else ""
    return mark_safe(prefix + highlight(piece, pattern) + suffix)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def search(
    q: str,
    *,
    site_id: int | None = None,
    column_ids: Sequence[int] | None = None,
    kind: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    order: str = "relevance",
    page: int = 1,
    per_page: int = 20,
    within: tuple[str, Sequence[Any]] | None = None,
    window: int | None = None,
) -> SearchPage:
    """One page of hits, best first (title words weighted, then the newest) or newest first.

    A query reads at most ``window`` index rows, newest first, filters applied: a page costs the same
    whether a word is in 20 items or in all 300,000. When the window is full, ``capped`` is set and
    ``total`` is what it holds; a reader narrows a common word with a second word or a filter.

    ``within`` limits the hits to the item ids a subquery selects (SQL and its parameters, written by
    another app's code, never from input) — the disclosure catalogue searches its own entries this way.
    """
    from zhengwu.portal.models import ItemKind, SearchEntry

    phrases = parse_query(q)
    words = [p.text for p in phrases]
    page = max(1, page)
    if not phrases:
        return SearchPage(q, words, [], 0, page, per_page)
    where = ["1 = 1"]
    params: list[Any] = []
    if site_id is not None:
        where.append(
            "EXISTS (SELECT 1 FROM portal_searchscope sc WHERE sc.entry_id = e.item_id AND sc.site_id = %s)"
        )
        params.append(site_id)
    if column_ids:
        marks = ", ".join(["%s"] * len(column_ids))
        where.append(
            f"EXISTS (SELECT 1 FROM portal_searchscope sc WHERE sc.entry_id = e.item_id AND sc.column_id IN ({marks}))"
        )
        params.extend(column_ids)
    if kind:
        where.append("e.kind = %s")
        params.append(kind)
    if date_from is not None:
        where.append("e.date >= %s")
        params.append(date_from)
    if date_to is not None:
        where.append("e.date <= %s")
        params.append(date_to)
    if within is not None:
        where.append(f"e.item_id IN ({within[0]})")
        params.extend(within[1])
    pg = connection.vendor == "postgresql"
    if pg and len(where) == 1:
        # No filter: the window is taken from the index table alone and only its rows are joined (a
        # join inside would look up every candidate's entry before the sort keeps the window).
        candidates = (
            # Times as epoch seconds: Django's time-zone loader costs ~9 µs a value, 18 ms for 2,000 values.
            "SELECT w.item_id, e.title, EXTRACT(EPOCH FROM e.published_at)::float8 FROM ("
            f"SELECT d.id, d.item_id FROM {PG_TABLE} d WHERE d.doc @@ %s::tsquery ORDER BY d.id DESC LIMIT %s"
            ") w JOIN portal_searchentry e ON e.item_id = w.item_id ORDER BY w.id DESC"
        )
        match = pg_tsquery(phrases)
    elif pg:
        candidates = (
            f"SELECT d.item_id, e.title, EXTRACT(EPOCH FROM e.published_at)::float8 FROM {PG_TABLE} d "
            "JOIN portal_searchentry e ON e.item_id = d.item_id "
            f"WHERE d.doc @@ %s::tsquery AND {' AND '.join(where)} ORDER BY d.id DESC LIMIT %s"
        )
        match = pg_tsquery(phrases)
    else:
        candidates = (
            # The time as stored (ISO text sorts in time order): no conversion of a thousand values.
            f"SELECT f.rowid / 1000, e.title, CAST(e.published_at AS TEXT) FROM {FTS_TABLE} f "
            "JOIN portal_searchentry e ON e.item_id = f.rowid / 1000 "
            f"WHERE {FTS_TABLE} MATCH %s AND {' AND '.join(where)} ORDER BY f.rowid DESC LIMIT %s"
        )
        match = fts5_match(phrases)
    limit = max(1, window if window is not None else WINDOW)
    with connection.cursor() as cur:
        cur.execute(candidates, [match, limit] if pg and len(where) == 1 else [match, *params, limit])
        rows = cur.fetchall()
    capped = len(rows) >= limit
    # Score: every query word counts once, ten times when it is in the title (title weight); the newest
    # first among equals. A body's word frequencies are not read: doing so means reading every hit.
    needles = [p.text for p in phrases]  # already normalised, like the titles below
    # NFKC leaves Chinese characters as they are; only a word with letters or digits needs the titles
    # normalised too (full-width ２０２６, upper case), which costs more than the rest of the ranking.
    fold_titles = any(not _CJK_ONLY.fullmatch(word) for word in needles)
    scored: dict[int, tuple[float, Any]] = {}
    for item_id, title, published_at in rows:
        if item_id in scored:
            continue  # a second part of a long body
        folded = _normalise(title) if fold_titles else title
        score = sum(TITLE_WEIGHT if word in folded else 1.0 for word in needles)
        scored[item_id] = (score, published_at)
    ranked = sorted(
        scored.items(),
        key=(lambda kv: (kv[1][0], kv[1][1])) if order != "date" else (lambda kv: (kv[1][1], kv[1][0])),
        reverse=True,
    )
    total = len(ranked)
    first = (page - 1) * per_page
    rows = [
        (item_id, score, published_at) for item_id, (score, published_at) in ranked[first : first + per_page]
    ]
    entries = {
        row[0]: row
        for row in SearchEntry.objects.filter(item_id__in=[r[0] for r in rows]).values_list(
            "item_id", "title", "url", "date", "kind", "site__name", "column__name", "version__data"
        )
    }
    pattern = _highlighter([*words, *(_fold(w) for w in words)])
    exact_words = [p.text for p in phrases if _trigram_word(p) is not None] if pg else []
    kinds = dict(ItemKind.choices)
    hits: list[Hit] = []
    for item_id, score, _published_at in rows:
        entry = entries.get(item_id)
        if entry is None:
            continue
        _id, title, url, day, kind_code, site_name, column_name, data = entry
        full_title, body = text_of(data)
        if exact_words:
            # A word matched by its trigrams on PostgreSQL is confirmed in the text itself before it is
            # shown: all its trigrams present but apart (rare in real text) is not the word.
            text = _normalise(f"{full_title}\n{body}")
            if not all(word in text for word in exact_words):
                continue
        hits.append(
            Hit(
                item_id=item_id,
                score=float(score),
                title=title,
                url=url,
                date=day,
                kind=kind_code,
                kind_label=str(kinds.get(kind_code, kind_code)),
                site_name=site_name,
                column_name=column_name,
                title_html=highlight(title, pattern),
                snippet_html=snippet(body, pattern),
            )
        )
    return SearchPage(q, words, hits, total, page, per_page, capped)
