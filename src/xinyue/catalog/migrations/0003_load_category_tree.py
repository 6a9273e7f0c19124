from django.db import migrations


def load(apps, schema_editor):
    from xinyue.catalog.category_tree import load_tree

    load_tree(apps.get_model("catalog", "Category"))


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_titles_offers_curation")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
