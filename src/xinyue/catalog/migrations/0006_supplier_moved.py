# Supplier moved to the suppliers app (same table, catalog_supplier): the catalog lets go of the
# model in Django's state only; no table or row changes.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_search_index"),
        ("suppliers", "0001_initial"),
        ("accounts", "0002_supplier_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="offer",
                    name="supplier",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="offers", to="suppliers.supplier", verbose_name="书商"),
                ),
                migrations.DeleteModel(name="Supplier"),
            ],
            database_operations=[],
        ),
    ]
