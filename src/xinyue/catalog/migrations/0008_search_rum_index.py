"""PostgreSQL: a RUM index beside the GIN index, where the server offers the ``rum`` extension
(Debian's ``postgresql-15-rum``), so that the search reads a query's first matches in index
order instead of every match (``PostgresBackend.order_for``). Without the extension nothing is
created and the engine keeps to GIN, with the same results. SQLite: nothing."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from xinyue.catalog.search.backends import pg_create_ordered_index

    pg_create_ordered_index(schema_editor.connection)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from xinyue.catalog.search.backends import RUM_INDEX

    schema_editor.execute(f"DROP INDEX IF EXISTS {RUM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_fold_han_reindex"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
