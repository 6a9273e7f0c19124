"""Many new rows of one model in one statement, for the few paths that write a batch per request
burst (placing's group commit: orders, lines, ledger, events, audit rows, messages).

``insert_rows(objs)`` does what ``Model.objects.bulk_create(objs)`` does for plain unsaved
instances — fills ``auto_now``/``auto_now_add`` fields, converts values for the database, gives
the instances their ids when asked — without building the statement through the query compiler,
which the profile of placing showed costing more than the database's own work (docs/decisions.md,
"Placing: one read per batch, rows written as prepared"). It knows nothing of signals,
``ignore_conflicts``, multi-table inheritance or custom ``pre_save``: use ``bulk_create`` for those.

``one_row(Model, sql, params)`` and ``row_where(Model, where, params)`` are the read side for the
hot paths that fetch one row by a key (a reader per API request, a credit order per provider
call): a raw statement through ``Model.objects.raw``, so Django's converters still apply and
unselected fields stay deferred, without building the filter through the query compiler.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection, models
from django.utils import timezone

M = TypeVar("M", bound=models.Model)

# Field classes whose Python value the database drivers take as it is (str, int, bool; a
# relation's id): no ``get_db_prep_save``. Every other class (dates, JSON, UUIDs, binary, custom
# fields) is converted as the ORM would.
_AS_IS = {
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
    models.BooleanField,
    models.ForeignKey,
    models.OneToOneField,
}


def insert_rows(objs: Sequence[models.Model], *, return_ids: bool = False) -> None:
    """Insert the unsaved ``objs`` (one model, auto primary key not set) in one statement;
    with ``return_ids`` each instance gets its primary key (``RETURNING``, in row order, as
    ``bulk_create`` relies on too)."""
    if not objs:
        return
    meta = type(objs[0])._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if f is not pk]
    now = timezone.now()
    stamped: dict[str, Any] = {}  # auto_now fields: the one time, converted once per call
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objs:
                setattr(obj, field.attname, now)
            stamped[field.attname] = field.get_db_prep_save(now, connection)
    plan = [(field.attname, None if type(field) in _AS_IS else field) for field in fields]
    relations = [field for field in fields if field.is_relation]
    params: list[Any] = []
    for obj in objs:
        for field in relations:  # a related object saved after it was assigned: its id now
            if getattr(obj, field.attname) is None and field.is_cached(obj):
                related = field.get_cached_value(obj)
                if related is not None:
                    setattr(obj, field.attname, related.pk)
        for attname, convert in plan:
            value = getattr(obj, attname)
            if convert is None or value is None:  # None is NULL for every field, JSON included
                params.append(value)
            elif attname in stamped:
                params.append(stamped[attname])
            else:
                params.append(convert.get_db_prep_save(value, connection))
    qn = connection.ops.quote_name
    columns = ", ".join(qn(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES " + ", ".join([row] * len(objs))
    with connection.cursor() as cursor:
        if return_ids:
            cursor.execute(f"{sql} RETURNING {qn(pk.column)}", params)
            ids = [r[0] for r in cursor.fetchall()]
            for obj, pk_value in zip(objs, ids, strict=True):
                setattr(obj, pk.attname, pk_value)
        else:
            cursor.execute(sql, params)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def one_row(model: type[M], sql: str, params: Sequence[Any]) -> M | None:
    """The first row ``sql`` (a SELECT of ``model``'s table) returns, or None: what
    ``next(iter(model.objects.raw(sql, params)), None)`` gives — the selected columns converted
    as the ORM converts them, the others deferred, a column that is no field set as an
    attribute — without building a raw queryset per call (its set-up cost three times the
    statement: ~117 against ~30 µs for a reader's standing)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        columns = tuple(column[0] for column in cursor.description)
    plan = _row_plan(model, columns)
    values = []
    for value, (_name, converters, _expression) in zip(row, plan.columns, strict=True):
        for converter, expression in converters:
            value = converter(value, expression, connection)
        values.append(value)
    instance = model.from_db(connection.alias, plan.names, [values[i] for i in plan.order])
    for i, name in plan.extra:
        setattr(instance, name, values[i])
    return instance


@dataclass(frozen=True)
class _RowPlan:
    columns: tuple[tuple[str, tuple[tuple[Any, Any], ...], Any], ...]
    names: tuple[str, ...]  # the model's fields selected, in the model's order (``from_db``)
    order: tuple[int, ...]  # where each of them is in the row
    extra: tuple[tuple[int, str], ...]  # columns that are no field: set as attributes


_plans: dict[tuple[str, type, tuple[str, ...]], _RowPlan] = {}


def _row_plan(model: type[models.Model], columns: tuple[str, ...]) -> _RowPlan:
    """How a row of ``columns`` becomes a ``model`` instance (kept per model, columns and
    database): each column's converters as the query compiler lists them (the backend's, then
    the field's own ``from_db_value``)."""
    key = (connection.alias, model, columns)
    plan = _plans.get(key)
    if plan is not None:
        return plan
    meta = model._meta
    by_column = {field.column: field for field in meta.concrete_fields}
    planned = []
    for name in columns:
        field = by_column.get(name)
        if field is None:
            planned.append((name, (), None))
            continue
        column = field.get_col(meta.db_table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        planned.append((name, tuple((c, column) for c in converters), field))
    position = {field.attname: i for i, (_n, _c, field) in enumerate(planned) if field}
    if meta.pk.attname not in position:
        raise ValueError(f"{model.__name__}: a raw row must include the primary key")
    selected = [f for f in meta.concrete_fields if f.attname in position]
    plan = _RowPlan(
        columns=tuple(planned),
        names=tuple(f.attname for f in selected),
        order=tuple(position[f.attname] for f in selected),
        extra=tuple((i, name) for i, (name, _c, field) in enumerate(planned) if field is None),
    )
    _plans[key] = plan
    return plan


def row_where(model: type[M], where: str, params: Sequence[Any]) -> M | None:
    """The row of ``model`` that ``where`` (a unique key's condition) names, or None."""
    return one_row(model, f"SELECT * FROM {model._meta.db_table} WHERE {where}", params)
