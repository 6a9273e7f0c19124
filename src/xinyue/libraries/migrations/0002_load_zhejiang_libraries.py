"""Load Zhejiang's member libraries from the bundled data file (data only; the file is the source)."""

import csv
from pathlib import Path

from django.db import migrations

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "zhejiang.csv"
LEVEL_RANK = {"province": 0, "city": 1, "district": 2}


def load(apps, schema_editor):
    Library = apps.get_model("libraries", "Library")
    if Library.objects.exists():
        return
    with DATA_FILE.open(encoding="utf-8-sig") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: (LEVEL_RANK[r["level"]], r["code"]))
    by_code = {}
    for row in rows:
        by_code[row["code"]] = Library.objects.create(
            code=row["code"],
            name=row["name"],
            level=row["level"],
            parent=by_code.get(row["parent_code"]) if row["parent_code"] else None,
            address=row.get("address") or "",
            phone=row.get("phone") or "",
            is_operator=row.get("is_operator") == "1",
        )


class Migration(migrations.Migration):
    dependencies = [("libraries", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
