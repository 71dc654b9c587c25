"""PostgreSQL: every indexed version is written again with the trigrams of its Chinese text (ADR 0006,
bounded search). Words of three or more characters are then matched by trigram lexemes, which the GIN
index answers without reading the rows. SQLite's FTS5 table is unchanged.

Reversing keeps the rows as they are: the bigrams and their positions are still there, so the previous
code's phrase queries find the same items.
"""

from django.db import migrations

BATCH = 1000


def rebuild(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    # The tokeniser is the application's own (a pure function of the stored snapshot), so the index is
    # written exactly as publishing writes it.
    from zhengwu.portal import search

    SearchEntry = apps.get_model("portal", "SearchEntry")
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {search.PG_TABLE}")
    batch = []
    rows = (
        SearchEntry.objects.using(connection.alias)
        .order_by("item_id")
        .values_list("item_id", "version__data")
    )
    for item_id, data in rows.iterator(chunk_size=BATCH):
        batch.append((item_id, data))
        if len(batch) == BATCH:
            search.index_write_many(batch)
            batch = []
    if batch:
        search.index_write_many(batch)


class Migration(migrations.Migration):
    dependencies = [("portal", "0004_scoring")]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop, elidable=True)]
