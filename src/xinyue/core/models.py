"""Shared model bases and the platform-wide tables: the audit log and idempotency records."""

from __future__ import annotations

from typing import Any, Self

from django.db import models

from xinyue.core.actors import Actor, Channel


class BaseModel(models.Model):
    """Every domain table: creation and update times."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class EventRow(models.Model):
    """The event-row convention: one row per state change of a domain object.

    Each app declares ``<Thing>Event(EventRow)`` with a FK to the thing. Services write one row
    per transition (``from_state`` → ``to_state``) through ``core.history.record_transition``
    (which also writes the audit row and the webhook when asked), in the same transaction as the
    change. The monthly report counts these rows.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_ref = models.CharField(max_length=40)
    actor_label = models.CharField(max_length=120, blank=True)
    channel = models.CharField(max_length=12, choices=[(c.value, c.value) for c in Channel])
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    @classmethod
    def record(
        cls,
        *,
        actor: Actor,
        from_state: str = "",
        to_state: str = "",
        note: str = "",
        **target: Any,
    ) -> Self:
        """Write one transition of ``target`` (e.g. ``card=card``) by ``actor``."""
        row = cls.build(actor=actor, from_state=from_state, to_state=to_state, note=note, **target)
        row.save(force_insert=True)
        return row

    @classmethod
    def build(
        cls,
        *,
        actor: Actor,
        from_state: str = "",
        to_state: str = "",
        note: str = "",
        **target: Any,
    ) -> Self:
        """The row ``record`` would write, unsaved (for ``bulk_create`` of many)."""
        return cls(
            actor_ref=actor.ref,
            actor_label=actor.label[:120],
            channel=actor.channel.value,
            from_state=from_state,
            to_state=to_state,
            note=note[:500],
            **target,
        )


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("the audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("the audit log is append-only")


class AuditEntry(models.Model):
    """Append-only: who did what, when, through which channel, to which object.

    Written only by ``xinyue.core.audit.record``. Never updated or deleted; unmasking personal
    data, exports, deductions and every administrative change land here.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_ref = models.CharField(max_length=40, db_index=True)
    actor_kind = models.CharField(max_length=12)
    actor_label = models.CharField(max_length=120, blank=True)
    channel = models.CharField(max_length=12)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    library_code = models.CharField(max_length=12, blank=True, db_index=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("the audit log is append-only")


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an ``Idempotency-Key``, replayed on retries."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress"
        DONE = "done"

    principal = models.CharField(max_length=80)
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    body_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=State.choices, default=State.IN_PROGRESS)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    response_body = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["principal", "key"], name="idempotency_key_per_principal"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class LoginThrottleRow(models.Model):
    """Failed log-ins of one key (a keyed hash) within a window, and its lock-out: the rows of
    ``xinyue.core.login_throttle``. Each app that logs people in keeps a table of these."""

    scope = models.CharField(max_length=4)
    key = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.scope}:{self.key[:8]} {self.failures}"


class SharedCounter(models.Model):
    """A counter all web processes share, with an expiry: API rate-limit windows, once-per-
    window claims (a search counted once per searcher). One statement per hit
    (``core.counters.hit``), where the database cache needed a transaction of four."""

    key = models.CharField(max_length=100, primary_key=True)
    count = models.PositiveBigIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}={self.count}"


class WebhookSubscriptionRow(BaseModel):
    """A system that wants to hear about events (a library's, a supplier's): its endpoint and
    signing secret. Concrete tables add their owner (``core/webhooks.py``)."""

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100)
    event_types = models.JSONField(default=list, blank=True, help_text="empty = every event")
    is_active = models.BooleanField(default=True)

    class Meta:
        abstract = True

    def wants(self, event_type: str) -> bool:
        return self.is_active and (not self.event_types or event_type in self.event_types)


class WebhookDeliveryRow(BaseModel):
    """One event for one subscription; retried through background work until delivered.
    Concrete tables add ``subscription`` (a FK to their subscription table)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"  # gave up after the last attempt

    event_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=60)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
