"""PostgreSQL: postings of the frequent Latin lexemes (``backends.POSTING_TABLE``), read by
index-only scans where GIN would visit a heap page per match; the term table's ``posted`` flag
says which lexemes have them. Filled from the stored documents (about a minute at 1 M titles),
then vacuumed, so that the index-only scans skip the heap from the start; the engine's writes
keep it exact from here on. Not atomic: VACUUM cannot run in a transaction (the fill is one).
SQLite: nothing."""

from django.db import migrations, transaction


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    from xinyue.catalog.search.backends import (
        POSTING_TABLE,
        TERM_TABLE,
        forget_statistics,
        pg_post_frequent,
    )

    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {TERM_TABLE} ADD COLUMN IF NOT EXISTS posted boolean NOT NULL DEFAULT false"
        )
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
        cursor.execute(f"DROP TABLE IF EXISTS {POSTING_TABLE}")
        cursor.execute(f"ALTER TABLE {TERM_TABLE} DROP COLUMN IF EXISTS posted")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0009_search_term_counts"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
