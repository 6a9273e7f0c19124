"""Create Huey's queue tables in PostgreSQL (SQLite's queue file creates its own)."""

from django.db import migrations


def create_queue_tables(apps, schema_editor):
    from huey.contrib.djhuey import HUEY

    storage = HUEY.storage
    if type(storage).__name__ == "PostgresStorage":
        storage.initialize_schema()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(create_queue_tables, migrations.RunPython.noop)]
