"""Finding documents by title words and by document number (公文检索), fast at 1.1 million documents on
SQLite and PostgreSQL alike.

Tokens. Titles and numbers are cut the way the portal's full-text search cuts text
(``zhengwu.portal.search.tokens``: overlapping Chinese character bigrams plus each run's last character,
letters and digits as words), so a query word is found wherever it occurs inside a title — the same
documents ``LIKE '%word%'`` finds. A query is cut into words by ``parse_query`` and a hit contains every
word, in its title or its number.

Access in the index. Each document's row also carries one token per unit that may see it — the sending
unit and every unit it was sent to (``u<id>``) — so the index answers "documents of my units with these
words" by intersecting two posting lists instead of filtering a million hits. The tokens only narrow the
candidates: every page is checked against the documents and receipts themselves (a recalled copy drops
out), so the index can never show a document to a unit that may not see it.

Storage. SQLite: an FTS5 table (columns title, number, units; rowid = document id; the content kept, so a
row can be replaced). PostgreSQL: ``documents_search (document_id → documents_document ON DELETE CASCADE,
doc tsvector)`` with a GIN index; title tokens weighted A, number tokens B, unit tokens D, and a query
word restricted to A and B. Hits come newest first (highest id first), so a page needs no ranking pass.

Keeping it current. ``document_index`` rewrites a document's row; the services call it in the same
transaction as the write that changes what the row holds (drafting, numbering, distribution, resending).
A whole 发文字号 is not searched through the index at all: it is looked up in the ``document_number``
column's b-tree index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from zhengwu.portal.search import Phrase, highlight, parse_query, tokens

FTS_TABLE = "documents_search_fts"
PG_TABLE = "documents_search"
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
NUMBER_RE = re.compile(r"^\S{1,20}〔\d{4}〕\d{1,6}号$")
MAX_UNITS = 64  # units named in one query (a person works in a handful)
COUNT_CAP = 1000  # "1000+ hits" beyond this: counting every hit of a common word is not worth the time


def _unit_token(unit_id: int) -> str:
    return f"u{unit_id}"


def _fix_brackets(value: str) -> str:
    """Numbers typed with 〔〕's look-alikes ([], 【】, ［］, （）) mean the same number."""
    return re.sub(r"[\[【［(（](\d{4})[\]】］)）]", r"〔\1〕", value.strip())


# --- Writing the index ---------------------------------------------------------------------------------


def _row(title: str, number: str, unit_ids: Iterable[int]) -> tuple[list[str], list[str], list[str]]:
    return tokens(title), tokens(number), [_unit_token(u) for u in sorted(set(unit_ids))]


def _pg_vector(title: list[str], number: list[str], units: list[str]) -> str:
    """A tsvector literal with explicit positions and weights; a gap between the parts keeps a phrase
    from running from the title into the number. Every Chinese character of title and number is also
    there once with weight C, so a lone character is one posting list rather than a prefix match over
    every bigram it starts (which PostgreSQL merges into a bitmap of all their documents)."""
    positions: dict[str, list[str]] = {}
    chars = list(dict.fromkeys(t[0] for t in (*title, *number) if _HAN.match(t)))
    pos = 0
    for part, weight in ((title, "A"), (number, "B"), (units, "D"), (chars, "C")):
        for tok in part:
            pos += 1
            if pos > 16383:
                break
            positions.setdefault(tok, []).append(f"{pos}{weight}")
        pos += 1
    return " ".join(f"'{tok}':{','.join(p[:256])}" for tok, p in positions.items())


def index_values(rows: Sequence[tuple[int, str, str, Iterable[int]]]) -> list[tuple[Any, ...]]:
    """The index rows of (document id, title, number, unit ids) in database form: (id, tsvector text) on
    PostgreSQL, (rowid, title tokens, number tokens, unit tokens) on SQLite."""
    pg = connection.vendor == "postgresql"
    values: list[tuple[Any, ...]] = []
    for doc_id, title, number, unit_ids in rows:
        t, n, u = _row(title, number, unit_ids)
        values.append(
            (doc_id, _pg_vector(t, n, u)) if pg else (doc_id, " ".join(t), " ".join(n), " ".join(u))
        )
    return values


def index_rows(rows: Sequence[tuple[int, str, str, Iterable[int]]]) -> int:
    """Write (or rewrite) the rows of many documents: (document id, title, number, unit ids)."""
    if not rows:
        return 0
    values = index_values(rows)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.executemany(
                f"INSERT INTO {PG_TABLE} (document_id, doc) VALUES (%s, %s::tsvector) "
                "ON CONFLICT (document_id) DO UPDATE SET doc = EXCLUDED.doc",
                values,
            )
        else:
            cur.executemany(
                f"INSERT OR REPLACE INTO {FTS_TABLE} (rowid, title, number, units) VALUES (%s, %s, %s, %s)",
                values,
            )
    return len(values)


def document_index(document: Any) -> None:
    """Rewrite one document's row from the database: its title, number, sending unit and every unit it
    was sent to. Called by the services inside the transaction of the write."""
    from zhengwu.documents.models import DocumentReceipt

    units = [
        document.unit_id,
        *DocumentReceipt.objects.filter(document_id=document.pk).values_list("unit_id", flat=True),
    ]
    index_rows([(document.pk, document.title, document.document_number, units)])


def index_prune() -> int:
    """Remove rows of documents that no longer exist (PostgreSQL removes them itself, by cascade)."""
    if connection.vendor == "postgresql":
        return 0
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid NOT IN (SELECT id FROM documents_document)")
        return cur.rowcount


def index_rebuild(*, batch: int = 5000) -> int:
    """Index every document again (after a restore, or for documents written before the index)."""
    from zhengwu.documents.models import Document, DocumentReceipt

    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {PG_TABLE if connection.vendor == 'postgresql' else FTS_TABLE}")
    done = 0
    last = 0
    while True:
        docs = list(
            Document.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "title", "document_number", "unit_id")[:batch]
        )
        if not docs:
            return done
        units: dict[int, list[int]] = {}
        for doc_id, unit_id in DocumentReceipt.objects.filter(
            document_id__gte=docs[0][0], document_id__lte=docs[-1][0]
        ).values_list("document_id", "unit_id"):
            units.setdefault(doc_id, []).append(unit_id)
        done += index_rows(
            [(pk, title, number, [unit, *units.get(pk, [])]) for pk, title, number, unit in docs]
        )
        last = docs[-1][0]


# --- Searching -----------------------------------------------------------------------------------------


def _fts5_query(phrases: Sequence[Phrase], unit_ids: Sequence[int]) -> str:
    words = []
    for p in phrases:
        words.append("{title number} : " + '"' + " ".join(p.tokens) + '"' + (" *" if p.prefix else ""))
    units = " OR ".join(f"units : {_unit_token(u)}" for u in unit_ids)
    return " AND ".join([*words, f"({units})"])


def _pg_query(phrases: Sequence[Phrase], unit_ids: Sequence[int]) -> str:
    words = []
    for p in phrases:
        if p.prefix and len(p.tokens) == 1 and len(p.tokens[0]) == 1 and _HAN.match(p.tokens[0]):
            words.append(f"'{p.tokens[0]}':C")  # a lone character: its own lexeme (see _pg_vector)
            continue
        toks = [f"'{t}':AB" for t in p.tokens]
        if p.prefix:
            toks[-1] = toks[-1].replace(":AB", ":*AB")
        words.append("(" + " <-> ".join(toks) + ")")
    units = " | ".join(f"'{_unit_token(u)}':D" for u in unit_ids)
    return " & ".join([*words, f"({units})"])


def _candidates(
    phrases: Sequence[Phrase], unit_ids: Sequence[int], *, before: int | None, limit: int
) -> tuple[list[int], int | None]:
    """Ids of indexed documents with every word and one of the units, highest first; on PostgreSQL also
    the number of all of them (the sort has seen every hit anyway, so counting them costs nothing more;
    FTS5 stops at the limit, so SQLite counts separately)."""
    params: list[Any]
    if connection.vendor == "postgresql":
        # "+ 0" keeps the planner on the GIN index: walking the primary key backwards until enough rare
        # hits turn up would read most of the table.
        sql = f"SELECT document_id, COUNT(*) OVER () FROM {PG_TABLE} WHERE doc @@ %s::tsquery"
        params = [_pg_query(phrases, unit_ids)]
        if before is not None:
            sql += " AND document_id < %s"
            params.append(before)
        sql += " ORDER BY document_id + 0 DESC LIMIT %s"
    else:
        sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
        params = [_fts5_query(phrases, unit_ids)]
        if before is not None:
            sql += " AND rowid < %s"
            params.append(before)
        sql += " ORDER BY rowid DESC LIMIT %s"
    params.append(limit)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    total = (int(rows[0][1]) if rows else 0) if connection.vendor == "postgresql" else None
    return [int(r[0]) for r in rows], total


def _count(phrases: Sequence[Phrase], unit_ids: Sequence[int]) -> int:
    """Hits in the index, counted up to COUNT_CAP + 1."""
    if connection.vendor == "postgresql":
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {PG_TABLE} WHERE doc @@ %s::tsquery LIMIT %s) c"
        params: list[Any] = [_pg_query(phrases, unit_ids), COUNT_CAP + 1]
    else:
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT %s)"
        params = [_fts5_query(phrases, unit_ids), COUNT_CAP + 1]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return int(cur.fetchone()[0])


def _visible(doc_ids: Sequence[int], unit_ids: Sequence[int]) -> dict[int, int | None]:
    """Of these documents, those the units may see: {document id: the receipt id of the unit's copy, or
    None when one of the units sent it}. Sent by one of the units, or a copy to one of them not recalled."""
    from zhengwu.documents.models import Document, DocumentReceipt, ReceiptState

    if not doc_ids:
        return {}
    out: dict[int, int | None] = {
        pk: None
        for pk in Document.objects.filter(pk__in=doc_ids, unit_id__in=unit_ids).values_list("pk", flat=True)
    }
    for doc_id, receipt_id in (
        DocumentReceipt.objects.filter(document_id__in=doc_ids, unit_id__in=unit_ids)
        .exclude(state=ReceiptState.RECALLED)
        .order_by("pk")
        .values_list("document_id", "pk")
    ):
        out.setdefault(doc_id, receipt_id)
    return out


@dataclass
class Hit:
    document: Any
    receipt_id: int | None  # the user's unit's copy; None when the user's unit sent it
    title_html: str
    number_html: str

    @property
    def url(self) -> str:
        from django.urls import reverse

        if self.receipt_id is None:
            return reverse("documents:detail", args=[self.document.pk])
        return reverse("documents:incoming", args=[self.receipt_id])


@dataclass
class Results:
    query: str
    words: list[str]
    hits: list[Hit]
    count: int  # up to COUNT_CAP, or COUNT_CAP + 1 meaning "more than COUNT_CAP"
    next_before: int | None  # the keyset of the next page (documents with a lower id)
    by_number: bool

    @property
    def count_capped(self) -> bool:
        return self.count > COUNT_CAP


def document_search(
    unit_ids: Iterable[int], q: str, *, before: int | None = None, per_page: int = 20, with_count: bool = True
) -> Results:
    """One page of documents the given units may see whose title (or number) holds every word of ``q``,
    newest first; a whole 发文字号 finds that document through the number index."""
    from zhengwu.documents.models import Document

    units = sorted(set(unit_ids))[:MAX_UNITS]
    query = (q or "").strip()[:100]
    if not units or not query:
        return Results(query, [], [], 0, None, False)
    number = _fix_brackets(query)
    if NUMBER_RE.match(number):
        ids = list(
            Document.objects.filter(document_number=number).order_by("-pk").values_list("pk", flat=True)[:50]
        )
        visible = _visible(ids, units)
        ids = [pk for pk in ids if pk in visible]
        return Results(query, [number], _hits(ids, visible, [number]), len(ids), None, True)
    phrases = parse_query(query)
    words = [p.text for p in phrases]
    if not phrases:
        return Results(query, [], [], 0, None, False)
    page: list[int] = []
    visible_all: dict[int, int | None] = {}
    cursor = before
    want = per_page + 1
    count: int | None = None
    while len(page) < want:
        batch, total = _candidates(phrases, units, before=cursor, limit=want * 2)
        if cursor == before and before is None:
            count = total
        if not batch:
            break
        visible = _visible(batch, units)
        visible_all.update(visible)
        page += [pk for pk in batch if pk in visible]
        if len(batch) < want * 2:
            break
        cursor = batch[-1]
    more = len(page) > per_page
    page = page[:per_page]
    if count is None:
        count = _count(phrases, units) if with_count else len(page)
    return Results(
        query, words, _hits(page, visible_all, words), count, page[-1] if more and page else None, False
    )


def _hits(ids: list[int], visible: dict[int, int | None], words: list[str]) -> list[Hit]:
    from zhengwu.documents.models import Document

    docs = Document.objects.select_related("unit").in_bulk(ids)
    pattern = (
        re.compile("|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)), re.I)
        if words
        else None
    )
    return [
        Hit(
            docs[pk],
            visible.get(pk),
            highlight(docs[pk].title, pattern),
            highlight(docs[pk].document_number, pattern),
        )
        for pk in ids
        if pk in docs
    ]
