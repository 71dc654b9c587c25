"""PostgreSQL: the title search table keeps its rows in step with the documents through a trigger instead
of a foreign key. Django does not know the table (it is not a model), so a foreign key from it made
every ``flush`` (each transactional test, ``manage.py flush``) fail: TRUNCATE refuses a table another
table references. Deleting a document still deletes its index row."""

from django.db import migrations

FORWARD = [
    "ALTER TABLE documents_search DROP CONSTRAINT IF EXISTS documents_search_document_id_fkey",
    """CREATE OR REPLACE FUNCTION documents_search_forget() RETURNS trigger AS $$
    BEGIN
        DELETE FROM documents_search WHERE document_id = OLD.id;
        RETURN OLD;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER documents_search_forget AFTER DELETE ON documents_document "
    "FOR EACH ROW EXECUTE FUNCTION documents_search_forget()",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS documents_search_forget ON documents_document",
    "DROP FUNCTION IF EXISTS documents_search_forget()",
    "DELETE FROM documents_search WHERE document_id NOT IN (SELECT id FROM documents_document)",
    "ALTER TABLE documents_search ADD CONSTRAINT documents_search_document_id_fkey FOREIGN KEY (document_id) "
    "REFERENCES documents_document (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("documents", "0008_title_search_single_characters")]

    operations = [migrations.RunPython(forward, backward)]
