"""Opening hours of a library, and the public contacts of the bundled file (``data/zhejiang.csv``)
for databases loaded before the file had them: a field is filled only where it is still empty,
so nothing a library entered itself is overwritten."""

import csv
from pathlib import Path

from django.db import migrations, models

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "zhejiang.csv"
FIELDS = ("address", "phone", "opening_hours")


def fill_public_data(apps, schema_editor):
    Library = apps.get_model("libraries", "Library")
    with DATA_FILE.open(encoding="utf-8-sig") as handle:
        rows = {row["code"]: row for row in csv.DictReader(handle)}
    for library in Library.objects.filter(code__in=list(rows)):
        row = rows[library.code]
        changed = [f for f in FIELDS if not getattr(library, f) and (row.get(f) or "").strip()]
        for field in changed:
            setattr(library, field, row[field].strip())
        if changed:
            library.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [
        ("libraries", "0002_load_zhejiang_libraries"),
    ]

    operations = [
        migrations.AddField(
            model_name="library",
            name="opening_hours",
            field=models.CharField(blank=True, max_length=200, verbose_name="开放时间"),
        ),
        migrations.RunPython(fill_public_data, migrations.RunPython.noop),
    ]
