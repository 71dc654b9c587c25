"""A lone Chinese character answered from one posting list: on SQLite a one-character prefix index on
the FTS5 table (a lone character is a prefix of every bigram it starts), on PostgreSQL each character
once more as its own lexeme (weight C, see zhengwu/documents/search.py). The rows are written again."""

import importlib

from django.db import migrations

title_search = importlib.import_module("zhengwu.documents.migrations.0007_title_search")

SQLITE_OLD = (
    "CREATE VIRTUAL TABLE documents_search_fts USING fts5("
    "title, number, units, tokenize='unicode61 remove_diacritics 0', columnsize=0)"
)
SQLITE_NEW = (
    "CREATE VIRTUAL TABLE documents_search_fts USING fts5("
    "title, number, units, tokenize='unicode61 remove_diacritics 0', columnsize=0, prefix='1')"
)


class Migration(migrations.Migration):
    dependencies = [("documents", "0007_title_search")]

    operations = [
        # Backwards, the old table is filled again after it is recreated (operations undo in reverse).
        migrations.RunPython(migrations.RunPython.noop, title_search.index_existing),
        title_search.VendorRunSQL(
            "sqlite",
            ["DROP TABLE documents_search_fts", SQLITE_NEW],
            ["DROP TABLE documents_search_fts", SQLITE_OLD],
        ),
        migrations.RunPython(title_search.index_existing, migrations.RunPython.noop),
    ]
