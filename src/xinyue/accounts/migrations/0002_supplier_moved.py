# Supplier moved from the catalog app to the suppliers app (same table): point the foreign keys
# at the new model in Django's state; the database keeps its columns and constraints.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("suppliers", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="user",
                    name="supplier",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="staff", to="suppliers.supplier"),
                ),
                migrations.AlterField(
                    model_name="apikey",
                    name="supplier",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to="suppliers.supplier"),
                ),
            ],
            database_operations=[],
        ),
    ]
