from __future__ import annotations

import pytest

from xinyue.core import audit
from xinyue.core.actors import SYSTEM
from xinyue.core.models import AuditEntry


@pytest.mark.django_db
def test_audit_log_is_append_only():
    entry = audit.record(
        actor=SYSTEM, action="test.done", object_type="thing", object_id=7, note="x"
    )
    assert entry.actor_ref == "system"
    assert entry.channel == "system"
    entry.action = "changed"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.update(action="x")
    assert AuditEntry.objects.get().action == "test.done"
