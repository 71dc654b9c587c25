"""Keep derived state in step: the raw full-text table when the database is flushed (tests, `flush`),
and the cache of sites and columns kept by processes that render pages on request."""

from __future__ import annotations

from typing import Any

from django.db import connections, transaction


def drop_render_cache(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """A site, column or unit changed (or the tables were migrated or flushed): once that is committed,
    every process renders pages from fresh ones. Until then other processes cannot see the change, and
    this one keeps nothing it reads inside the transaction."""
    from zhengwu.portal import publishing

    transaction.on_commit(publishing.bump, using=using, robust=True)


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
