# The Supplier model moved here from the catalog app. Its table, catalog_supplier, keeps its name
# and its rows: this migration only takes the model over in Django's state, and renames the
# content type so that permissions and generic references follow the model.

from django.db import migrations, models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="suppliers", model="supplier").exists():
        ContentType.objects.filter(app_label="catalog", model="supplier").update(
            app_label="suppliers"
        )


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="suppliers", model="supplier").update(app_label="catalog")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("catalog", "0005_search_index"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Supplier",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("code", models.SlugField(max_length=40, unique=True, verbose_name="代码")),
                        ("name", models.CharField(max_length=100, verbose_name="名称")),
                        ("contact", models.CharField(blank=True, max_length=100, verbose_name="联系人")),
                        ("phone", models.CharField(blank=True, max_length=40, verbose_name="联系电话")),
                        ("is_active", models.BooleanField(default=True, verbose_name="启用")),
                    ],
                    options={"db_table": "catalog_supplier", "ordering": ["code"]},
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
