"""The first published version of each consent text (PIPL art. 14, 23, 29)."""

from django.db import migrations
from django.utils import timezone

from xinyue.readers.consent_texts import DEFAULT_TEXTS



def add_texts(apps, schema_editor):
    ConsentText = apps.get_model("readers", "ConsentText")
    now = timezone.now()
    for purpose, title, recipient, body in DEFAULT_TEXTS:
        ConsentText.objects.get_or_create(
            purpose=purpose,
            version=1,
            defaults={"title": title, "recipient": recipient, "body": body, "published_at": now},
        )


class Migration(migrations.Migration):
    dependencies = [("readers", "0002_vault_fields_password")]
    operations = [migrations.RunPython(add_texts, migrations.RunPython.noop)]
