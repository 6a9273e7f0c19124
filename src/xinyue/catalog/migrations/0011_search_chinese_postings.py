"""PostgreSQL: postings for the frequent Chinese terms too — the term table's "|xy" keys of
two-character terms that 1,000 documents or more hold and the Chinese words of three characters
or more that 2,000 or more hold (``backends._POSTED_KIND_SQL``) — so that such a term's first
titles in index order are read by an index-only scan instead of sorting its matches in RUM,
walking the docid index or collecting them all through GIN. Filled from the stored documents, then vacuumed (index-only scans skip the heap
from the start); the engine's writes keep them exact from here on. Not atomic: VACUUM cannot run
in a transaction (the fill is one). SQLite: nothing."""

from django.db import migrations, transaction


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    from xinyue.catalog.search.backends import POSTING_TABLE, forget_statistics, pg_post_frequent

    with transaction.atomic(using=connection.alias):
        pg_post_frequent(connection)
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {POSTING_TABLE}")
    forget_statistics()


def drop(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    from xinyue.catalog.search.backends import POSTING_TABLE, TERM_TABLE

    with connection.cursor() as cursor:
        # What 0010 posted is the Latin words.
        cursor.execute(f"DELETE FROM {POSTING_TABLE} WHERE lexeme !~ '^[a-z]'")
        cursor.execute(f"UPDATE {TERM_TABLE} SET posted = false WHERE posted AND lexeme !~ '^[a-z]'")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0010_search_postings"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
