"""The title search index follows deletions: on PostgreSQL a trigger removes a deleted document's row (no
foreign key, so that flushing the database — every transactional test — can truncate the documents), on
SQLite ``index_prune`` does."""

from __future__ import annotations

import pytest
from django.db import connection

from zhengwu.documents.search import index_prune
from zhengwu.documents.tests.conftest import Office, draft_notice

pytestmark = pytest.mark.django_db


def _rows(document_id: int) -> int:
    table, key = (
        ("documents_search", "document_id")
        if connection.vendor == "postgresql"
        else ("documents_search_fts", "rowid")
    )
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table} WHERE {key} = %s", [document_id])
        return int(cur.fetchone()[0])


def test_it_forgets_a_deleted_document_in_the_search_index(office: Office) -> None:
    doc = draft_notice(office, title="关于清理过期草稿的通知")
    kept = draft_notice(office, title="关于保留的通知")
    assert (_rows(doc.pk), _rows(kept.pk)) == (1, 1)
    doc_id = doc.pk
    doc.delete()
    pruned = index_prune()
    assert pruned == (0 if connection.vendor == "postgresql" else 1)  # PostgreSQL's trigger already did it
    assert (_rows(doc_id), _rows(kept.pk)) == (0, 1)
