"""Key rotation: re-encrypt every sealed column of every app under the current vault key.

Runs while the platform serves requests: rows are taken in primary-key batches, each batch in its
own short transaction with its rows locked (``select_for_update``), so a concurrent change to one
of those rows waits for the batch instead of being overwritten. Every process opens ciphertexts
under any key in the key ring and seals under the current one (the key file is re-read when it
changes), so old and new ciphertexts coexist until the pass completes. Resumable: a row already
under the current key is skipped, so an interrupted run is simply started again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from xinyue.core import audit
from xinyue.core.actors import SYSTEM
from xinyue.readers import vault


@dataclass
class RotationReport:
    key_id: str
    resealed: dict[str, int] = field(default_factory=dict)
    passes: int = 0
    complete: bool = False

    @property
    def total(self) -> int:
        return sum(self.resealed.values())


def _stale(fields: list[vault.SealedTextField], key_id: str) -> Q:
    condition = Q(pk__in=[])
    for f in fields:
        condition |= Q(**{f"{f.attname}__gt": ""}) & ~Q(
            **{f"{f.attname}__startswith": f"{key_id}$"}
        )
    return condition


def stale_count() -> int:
    """How many rows still hold a ciphertext under a key other than the current one."""
    key_id = vault.keyring(refresh=True).current.id
    return sum(
        model._base_manager.filter(_stale(fields, key_id)).count()
        for model, fields in vault.sealed_fields()
    )


def reseal_all(
    *,
    batch_size: int = 500,
    max_batches: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> RotationReport:
    """Re-encrypt every stale ciphertext under the current key, batch by batch.

    ``max_batches`` stops early (the run is resumable); without it, passes repeat until no stale
    row is left (a process that sealed with the old key just before it saw the new one is caught
    by the next pass)."""
    ring = vault.keyring(refresh=True)
    report = RotationReport(key_id=ring.current.id)
    batches = 0
    for _pass in range(5):
        report.passes += 1
        for model, fields in vault.sealed_fields():
            label = model._meta.label
            manager = model._base_manager
            last_pk = None
            while True:
                if max_batches is not None and batches >= max_batches:
                    return report
                with transaction.atomic():
                    rows = manager.select_for_update().filter(_stale(fields, report.key_id))
                    if last_pk is not None:
                        rows = rows.filter(pk__gt=last_pk)
                    rows = list(rows.order_by("pk")[:batch_size])
                    if not rows:
                        break
                    for row in rows:
                        for f in fields:
                            vault.reseal(row, f.name)
                    manager.bulk_update(rows, [f.name for f in fields])
                batches += 1
                last_pk = rows[-1].pk
                report.resealed[label] = report.resealed.get(label, 0) + len(rows)
                if progress:
                    progress(f"{label}: {report.resealed[label]} rows re-encrypted")
        if stale_count() == 0:
            report.complete = True
            break
    with transaction.atomic():
        audit.record(
            actor=SYSTEM,
            action="vault.rotated",
            key_id=report.key_id,
            resealed=report.resealed,
            complete=report.complete,
        )
    return report
