"""PostgreSQL: the term table, how many documents hold each lexeme of the search vector
(``backends.TERM_TABLE``), counted from the stored documents; the engine's writes keep it exact
from here on. It tells a search that a one-term query fills its window without visiting 10,001
heap pages, and which lexemes an English or pinyin prefix stands for. About a minute at 1 M
titles. SQLite: nothing."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from xinyue.catalog.search.backends import pg_fill_term_table

    pg_fill_term_table(schema_editor.connection)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from xinyue.catalog.search.backends import TERM_TABLE

    schema_editor.execute(f"DROP TABLE IF EXISTS {TERM_TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_search_rum_and_statistics"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
