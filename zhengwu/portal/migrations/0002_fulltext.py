"""The full-text tables beside SearchEntry: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

Each statement runs only on its own database; the other one skips it.
"""

from django.db import migrations


class VendorRunSQL(migrations.RunSQL):
    def __init__(self, vendor, sql, reverse_sql):
        super().__init__(sql, reverse_sql)
        self.vendor = vendor

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"Full-text table on {self.vendor}"


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [
        VendorRunSQL(
            "sqlite",
            # Contentless: only the index is stored; tokens are given back on delete (search.index_erase).
            "CREATE VIRTUAL TABLE portal_search_fts USING fts5("
            "title, body, content='', tokenize='unicode61 remove_diacritics 0')",
            "DROP TABLE IF EXISTS portal_search_fts",
        ),
        VendorRunSQL(
            "postgresql",
            [
                "CREATE TABLE portal_search_doc (id bigint PRIMARY KEY, item_id bigint NOT NULL, doc tsvector NOT NULL)",
                "CREATE INDEX portal_search_doc_gin ON portal_search_doc USING gin (doc)",
                "CREATE INDEX portal_search_doc_item ON portal_search_doc (item_id)",
            ],
            ["DROP TABLE IF EXISTS portal_search_doc"],
        ),
    ]
