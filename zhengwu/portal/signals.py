"""Cleanup only: keep the raw full-text table in step when the database is flushed (tests, `flush`)."""

from __future__ import annotations

from typing import Any

from django.db import connections


def clear_orphan_index(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """`flush` empties the model tables but not the raw full-text table beside them; empty it too."""
    from zhengwu.portal import search
    from zhengwu.portal.models import SearchEntry

    connection = connections[using]
    table = search.PG_TABLE if connection.vendor == "postgresql" else search.FTS_TABLE
    if table not in connection.introspection.table_names():
        return
    if not SearchEntry.objects.using(using).exists():
        search.index_clear(using=using)
