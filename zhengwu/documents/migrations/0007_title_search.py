"""The title search index beside the documents (see zhengwu/documents/search.py): FTS5 on SQLite,
tsvector + GIN on PostgreSQL; each statement runs only on its own database. Existing documents are
indexed here."""

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
        return f"Document title search table on {self.vendor}"


def index_existing(apps, schema_editor):
    from zhengwu.documents.search import index_rows

    Document = apps.get_model("documents", "Document")
    DocumentReceipt = apps.get_model("documents", "DocumentReceipt")
    last = 0
    while True:
        docs = list(
            Document.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "title", "document_number", "unit_id")[:2000]
        )
        if not docs:
            return
        units: dict[int, list[int]] = {}
        for doc_id, unit_id in DocumentReceipt.objects.filter(
            document_id__gte=docs[0][0], document_id__lte=docs[-1][0]
        ).values_list("document_id", "unit_id"):
            units.setdefault(doc_id, []).append(unit_id)
        index_rows([(pk, title, number, [unit, *units.get(pk, [])]) for pk, title, number, unit in docs])
        last = docs[-1][0]


class Migration(migrations.Migration):
    dependencies = [("documents", "0006_incoming_read_before_archive")]

    operations = [
        VendorRunSQL(
            "sqlite",
            # Content kept (titles are short) so a row can be replaced in place; no column sizes: hits are
            # ordered by id, not ranked.
            "CREATE VIRTUAL TABLE documents_search_fts USING fts5("
            "title, number, units, tokenize='unicode61 remove_diacritics 0', columnsize=0)",
            "DROP TABLE IF EXISTS documents_search_fts",
        ),
        VendorRunSQL(
            "postgresql",
            [
                "CREATE TABLE documents_search (document_id bigint PRIMARY KEY "
                "REFERENCES documents_document (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, "
                "doc tsvector NOT NULL)",
                "CREATE INDEX documents_search_gin ON documents_search USING gin (doc)",
            ],
            ["DROP TABLE IF EXISTS documents_search"],
        ),
        migrations.RunPython(index_existing, migrations.RunPython.noop),
    ]
