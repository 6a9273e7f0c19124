"""Rebuild the search index: the tokens now fold traditional and variant Han characters into one
simplified form (``catalog/search/text.py``, ``fold_han``), so every stored document must be
tokenised again. On an empty catalog this does nothing; on a large one it takes about as long as
``xinyue import-catalog`` of the same titles (the index is rewritten in one transaction)."""

from django.db import migrations


def reindex(apps, schema_editor):
    from xinyue.catalog.services.indexing import rebuild_index

    rebuild_index(title_model=apps.get_model("catalog", "Title"))


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_supplier_moved"),
    ]

    operations = [
        migrations.RunPython(reindex, migrations.RunPython.noop, elidable=True),
    ]
