"""The table of the ``shared`` database cache (rate-limit counters), made by migrate."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_task_queue_tables")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
