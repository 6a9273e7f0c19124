"""PostgreSQL: a RUM index beside the GIN index, where the server offers the ``rum`` extension
(Debian's ``postgresql-15-rum``), so that the search reads a query's first matches in index
order instead of every match (``PostgresBackend.order_for``); without the extension nothing is
created and the engine keeps to GIN, with the same results. And ten times the default statistics
for the vector column (a sample of up to 300,000 documents), which ``surely_exceeds`` relies on
to skip counting a window it knows is full. SQLite: nothing."""

from django.db import migrations

STATISTICS = "ALTER TABLE catalog_searchdocument ALTER COLUMN vector SET STATISTICS {}"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from xinyue.catalog.search.backends import VECTOR_STATISTICS, pg_create_ordered_index

    schema_editor.execute(STATISTICS.format(VECTOR_STATISTICS))
    pg_create_ordered_index(schema_editor.connection)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from xinyue.catalog.search.backends import RUM_INDEX

    schema_editor.execute(f"DROP INDEX IF EXISTS {RUM_INDEX}")
    schema_editor.execute(STATISTICS.format(-1))


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_fold_han_reindex"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
