"""Credit orders (信用借还) at the provider: open, extend, complete (with a charge), cancel.

Every operation is first *recorded* on the order (``pending_op`` + its arguments) and committed,
then sent to the provider outside any transaction, then its outcome applied. So:

* a retry of ``open_credit_order`` with the same ``reference`` returns the same order;
* the provider key ``out_order_no`` is fixed before the first call, and a timeout is followed by
  a query with that key — never by a second create;
* an operation interrupted by a timeout or an outage stays pending and is finished by the
  ``finish_credit_order`` task (outbox-style), idempotently.

The order issue builds loans on these services; there is no page for them here.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from xinyue.core import audit, clock
from xinyue.core.actors import SYSTEM, Actor
from xinyue.core.errors import InvalidInput
from xinyue.core.history import record_transition
from xinyue.core.permissions import Action, require_reader
from xinyue.core.retries import Backoff, retry_later
from xinyue.credit import conf
from xinyue.credit.errors import (
    ConsentRequired,
    CreditOrderNotFound,
    CreditOrderState,
    NotAdmitted,
    ProviderDisabled,
    ProviderFailed,
)
from xinyue.credit.models import CreditOrder, CreditOrderEvent
from xinyue.credit.providers import ProviderNotConfigured, get_provider
from xinyue.credit.providers.base import (
    CompleteReason,
    CreditOrderRequest,
    CreditOrderResult,
    OrderNotFound,
    OrderState,
    ProviderError,
    ProviderEvent,
    ProviderRefused,
    ProviderTimeout,
)
from xinyue.credit.selectors import (
    credit_order_by_reference,
    current_admittance,
    locked_credit_order,
    provider_setting,
    provider_user_id,
)
from xinyue.credit.services.authorizations import new_request_no

log = logging.getLogger("xinyue.credit.orders")

# A pending provider call is sent again after 30 s, 1 min … then hourly, 22 attempts in all.
BACKOFF = Backoff(steps=(30, 60, 120, 300, 900, 1800, 3600), max_attempts=22)
State = CreditOrder.State
Op = CreditOrder.Op

# How far along an order is: a notification or a query never moves it backwards.
RANK = {
    State.NEW: 0,
    State.PENDING_CONFIRM: 1,
    State.BORROWED: 2,
    State.OVERDUE: 3,
    State.CHARGING: 4,
    State.CHARGE_FAILED: 4,
    State.REJECTED: 9,
    State.RETURNED: 9,
    State.CHARGED: 9,
    State.CANCELLED: 9,
}


def new_out_order_no() -> str:
    return new_request_no("XYC")


def _require_actor(actor: Actor, order_reader_id: int, *, staff_only: bool = False) -> None:
    """The reader themself, staff of a library where the reader holds a card, the operator and
    the platform's jobs; only staff charge (``core.permissions``)."""
    action = Action.CHARGE_CREDIT_ORDER if staff_only else Action.RUN_CREDIT_ORDER
    require_reader(actor, order_reader_id, action, message=_("不能操作该信用订单"))


def _event(
    order: CreditOrder, actor: Actor, *, from_state: str, to_state: str, note: str = ""
) -> None:
    record_transition(
        CreditOrderEvent,
        order=order,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        note=note,
    )


def _adapter(provider: str):
    try:
        return get_provider(provider)
    except ProviderNotConfigured:
        raise ProviderDisabled(provider=provider) from None


def _require_consents(reader) -> None:
    from xinyue.readers.selectors import has_consent
    from xinyue.readers.selectors.consents import CREDIT_BORROWING_CONSENTS

    for purpose in CREDIT_BORROWING_CONSENTS:
        if not has_consent(reader=reader, purpose=purpose):
            raise ConsentRequired(
                _("请先同意信用评估授权和向信用服务机构提供借阅记录"), purpose=purpose
            )


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# --- the provider call of a pending operation ---------------------------------------------


def _call(order: CreditOrder, adapter: Any) -> CreditOrderResult:
    args = order.pending_args or {}
    if order.pending_op == Op.START:
        return adapter.start_credit_order(
            CreditOrderRequest(
                out_order_no=order.out_order_no,
                goods_name=order.goods_name,
                deposit_fen=order.deposit_fen,
                borrow_time=order.borrowed_at,
                due_at=order.due_at,
                provider_user_id=args.get("provider_user_id", ""),
                return_url=args.get("return_url", ""),
                notify_url=conf.notify_url(order.provider),
                shop_name=args.get("shop_name", ""),
            )
        )
    if order.pending_op == Op.EXTEND:
        return adapter.extend_order(
            out_order_no=order.out_order_no,
            provider_order_no=order.provider_order_no,
            due_at=_parse(args["due_at"]),
        )
    if order.pending_op == Op.COMPLETE:
        return adapter.complete_order(
            out_order_no=order.out_order_no,
            provider_order_no=order.provider_order_no,
            returned_at=_parse(args["returned_at"]),
            charge_fen=int(args.get("charge_fen", 0)),
            reason=CompleteReason(args.get("reason", "RETURN")),
            shop_name=args.get("shop_name", ""),
        )
    if order.pending_op == Op.CANCEL:
        return adapter.cancel_order(
            out_order_no=order.out_order_no,
            provider_order_no=order.provider_order_no,
            reason=args.get("reason", ""),
        )
    raise ValueError(f"no pending operation on {order.out_order_no}")


def _op_took_effect(op: str, args: dict, result: CreditOrderResult) -> bool:
    """Whether a queried state shows that ``op`` (whose answer we lost) happened."""
    if op == Op.START:
        return True  # the provider knows the order: created once, under our key
    if op == Op.EXTEND:
        return result.due_at is not None and result.due_at >= _parse(args["due_at"])
    if op == Op.COMPLETE:
        return result.state in (
            OrderState.RETURNED,
            OrderState.CHARGED,
            OrderState.CHARGING,
            OrderState.CHARGE_FAILED,
        )
    if op == Op.CANCEL:
        return result.state == OrderState.CANCELLED
    return False


# What an answer or a notification may change (the rest of the row is ours alone).
APPLIED_FIELDS = (
    "state",
    "provider_order_no",
    "confirm_url",
    "due_at",
    "charged_fen",
    "pending_op",
    "pending_args",
    "last_error",
    "synced_at",
    "updated_at",
)


def _apply_result(
    order: CreditOrder, result: CreditOrderResult, actor: Actor, *, op: str
) -> CreditOrder:
    with transaction.atomic():
        locked = locked_credit_order(order.pk)
        before = locked.state
        new_state = State(result.state.value)
        if RANK[new_state] >= RANK[State(before)] or op in (Op.COMPLETE, Op.CANCEL):
            locked.state = new_state
        if result.provider_order_no:
            locked.provider_order_no = result.provider_order_no[:64]
        if result.confirm_url:
            locked.confirm_url = result.confirm_url
        if (
            result.due_at is not None
            and op in (Op.EXTEND, Op.START)
            and locked.state
            in (
                State.BORROWED,
                State.OVERDUE,
            )
        ):
            locked.due_at = max(locked.due_at, result.due_at)
        if new_state == State.CHARGED:
            locked.charged_fen = result.charged_fen
        if locked.pending_op == op:
            locked.pending_op = Op.NONE
            locked.pending_args = {}
        locked.last_error = ""
        locked.synced_at = clock.now()
        locked.save(update_fields=APPLIED_FIELDS)
        if locked.state != before:
            _event(locked, actor, from_state=before, to_state=locked.state, note=op)
        if op == Op.COMPLETE and locked.charge_fen:
            audit.record(
                actor=actor,
                action="credit.deduction",
                obj=locked,
                out_order_no=locked.out_order_no,
                provider=locked.provider,
                charge_fen=locked.charge_fen,
                result=locked.state,
            )
    return locked


def _record_failure(order: CreditOrder, error: str, *, keep_pending: bool) -> CreditOrder:
    with transaction.atomic():
        locked = locked_credit_order(order.pk)
        locked.last_error = error[:200]
        if not keep_pending:
            locked.pending_op = Op.NONE
            locked.pending_args = {}
        locked.save(update_fields=["last_error", "pending_op", "pending_args", "updated_at"])
    return locked


def _schedule_retry(order: CreditOrder) -> None:
    from xinyue.credit.tasks import finish_credit_order

    transaction.on_commit(
        lambda: retry_later(finish_credit_order, backoff=BACKOFF, failures=1, order_id=order.pk)
    )


def _perform(order: CreditOrder, actor: Actor) -> CreditOrder:
    """Send the order's pending operation; apply what the provider says happened."""
    op, args = order.pending_op, dict(order.pending_args or {})
    adapter = _adapter(order.provider)
    try:
        try:
            result = _call(order, adapter)
        except ProviderTimeout:
            log.warning("credit order %s: %s timed out, querying", order.out_order_no, op)
            try:
                result = adapter.query_order(out_order_no=order.out_order_no)
            except OrderNotFound:
                if op != Op.START:
                    raise
                result = _call(order, adapter)  # never arrived: create it, same key
            else:
                if not _op_took_effect(op, args, result):
                    result = _call(order, adapter)
    except ProviderRefused as exc:
        log.warning("credit order %s: %s refused: %s", order.out_order_no, op, exc)
        if op == Op.START:
            rejected = CreditOrderResult(out_order_no=order.out_order_no, state=OrderState.REJECTED)
            order = _apply_result(order, rejected, actor, op=op)
            return _record_failure(order, str(exc), keep_pending=False)
        _record_failure(order, str(exc), keep_pending=False)
        raise ProviderFailed(provider=order.provider, reason=exc.sub_code or exc.code) from None
    except ProviderError as exc:
        log.warning("credit order %s: %s failed: %s", order.out_order_no, op, exc)
        order = _record_failure(order, f"{type(exc).__name__}: {exc}", keep_pending=True)
        with transaction.atomic():
            _schedule_retry(order)
        return order
    return _apply_result(order, result, actor, op=op)


def _begin(
    order: CreditOrder, actor: Actor, op: str, args: dict, *, allowed: set[str]
) -> CreditOrder:
    """Record ``op`` on the order (refusing it in a state it does not fit)."""
    with transaction.atomic():
        locked = locked_credit_order(order.pk)
        if locked.pending_op and locked.pending_op != op:
            raise CreditOrderState(
                _("信用订单正在处理“%(op)s”，请稍后再试") % {"op": locked.get_pending_op_display()},
                state=locked.state,
            )
        if locked.state not in allowed and locked.pending_op != op:
            raise CreditOrderState(state=locked.state, operation=op)
        locked.pending_op = op
        locked.pending_args = args
        if op == Op.COMPLETE:
            locked.charge_fen = int(args.get("charge_fen", 0))
            locked.complete_reason = args.get("reason", "RETURN")
            locked.returned_at = _parse(args["returned_at"])
        locked.save()
        audit.record(
            actor=actor,
            action=f"credit.order_{op}",
            obj=locked,
            out_order_no=locked.out_order_no,
            provider=locked.provider,
            **{k: v for k, v in args.items() if k in ("charge_fen", "reason", "due_at")},
        )
    return locked


# --- the services -----------------------------------------------------------------------------


def open_credit_order(
    *,
    actor: Actor,
    reader,
    reference: str,
    goods_name: str,
    deposit_fen: int,
    due_at: dt.datetime,
    borrowed_at: dt.datetime | None = None,
    shop_name: str = "",
    confirm_by_reader: bool = False,
    return_url: str = "",
) -> CreditOrder:
    """Open a credit order (deposit cap ``deposit_fen``) for an admitted reader, once per
    ``reference``. Needs both credit consents and a valid admittance (re-checked with the
    provider when the last decision expired). With ``confirm_by_reader`` the reader confirms on
    the provider's page (``confirm_url``); otherwise it is opened for their provider identity.
    """
    _require_actor(actor, reader.pk)
    if not reference or len(reference) > 80:
        raise InvalidInput(fields={"reference": _("必填，不超过 80 字")})
    if isinstance(deposit_fen, bool) or not isinstance(deposit_fen, int) or deposit_fen < 0:
        raise InvalidInput(fields={"deposit_fen": _("押金上限应为非负整数（分）")})
    borrowed_at = borrowed_at or clock.now()
    if due_at <= borrowed_at:
        raise InvalidInput(fields={"due_at": _("应还时间应晚于借出时间")})
    existing = credit_order_by_reference(reference=reference)
    if existing is not None:
        if existing.reader_id != reader.pk:
            raise CreditOrderState(_("该业务编号已用于其他读者的信用订单"))
        if existing.pending_op == Op.START:
            return _perform(existing, actor)
        return existing
    _require_consents(reader)
    admittance = current_admittance(reader=reader)
    if admittance is None:
        from xinyue.credit.services.authorizations import recheck_admittance

        recheck_admittance(actor=actor, reader=reader)
        admittance = current_admittance(reader=reader)
    if admittance is None or not admittance.admitted:
        raise NotAdmitted()
    setting = provider_setting(admittance.provider)
    if not setting.enabled or not conf.is_configured(admittance.provider):
        raise ProviderDisabled(provider=admittance.provider)
    user_id = "" if confirm_by_reader else provider_user_id(admittance.authorization_id)
    with transaction.atomic():
        order = CreditOrder.objects.create(
            out_order_no=new_out_order_no(),
            reference=reference,
            reader=reader,
            provider=admittance.provider,
            authorization_id=admittance.authorization_id,
            goods_name=goods_name.strip()[:40] or "图书",
            deposit_fen=deposit_fen,
            borrowed_at=borrowed_at,
            due_at=due_at,
            pending_op=Op.START,
            pending_args={
                "provider_user_id": user_id,
                "return_url": return_url,
                "shop_name": shop_name[:30],
            },
        )
        _event(order, actor, from_state="", to_state=State.NEW)
        audit.record(
            actor=actor,
            action="credit.order_opened",
            obj=order,
            out_order_no=order.out_order_no,
            provider=order.provider,
            deposit_fen=deposit_fen,
            reference=reference,
        )
    return _perform(order, actor)


def extend_credit_order(*, actor: Actor, order: CreditOrder, due_at: dt.datetime) -> CreditOrder:
    """Renewal: move the provider's latest return time later (never earlier)."""
    _require_actor(actor, order.reader_id)
    if due_at <= order.due_at:
        raise InvalidInput(fields={"due_at": _("续借后的应还时间应晚于原应还时间")})
    from xinyue.readers.selectors import has_consent

    if not has_consent(reader=order.reader, purpose="share_borrowing"):
        raise ConsentRequired(purpose="share_borrowing")
    order = _begin(
        order, actor, Op.EXTEND, {"due_at": _iso(due_at)}, allowed={State.BORROWED, State.OVERDUE}
    )
    return _perform(order, actor)


def complete_credit_order(
    *,
    actor: Actor,
    order: CreditOrder,
    returned_at: dt.datetime | None = None,
    charge_fen: int = 0,
    reason: str = CompleteReason.RETURN,
    shop_name: str = "",
) -> CreditOrder:
    """End the order: a return (nothing charged) or a loss/damage charged up to the deposit cap.
    A failed deduction (``charge_failed``) is retried by calling this again; the provider
    never charges twice."""
    _require_actor(actor, order.reader_id, staff_only=charge_fen > 0)
    reason = CompleteReason(reason)
    if isinstance(charge_fen, bool) or not isinstance(charge_fen, int) or charge_fen < 0:
        raise InvalidInput(fields={"charge_fen": _("赔付金额应为非负整数（分）")})
    if reason == CompleteReason.RETURN and charge_fen:
        raise InvalidInput(fields={"charge_fen": _("正常归还不应扣款")})
    if charge_fen > order.deposit_fen:
        raise InvalidInput(fields={"charge_fen": _("赔付金额不能超过免押额度")})
    if order.state == State.CHARGE_FAILED:
        args = dict(order.pending_args or {}) or {
            "returned_at": _iso(order.returned_at or clock.now()),
            "charge_fen": order.charge_fen,
            "reason": order.complete_reason or "LOST",
            "shop_name": shop_name[:30],
        }
        order = _begin(order, actor, Op.COMPLETE, args, allowed={State.CHARGE_FAILED})
        return _perform(order, actor)
    returned_at = min(returned_at or clock.now(), clock.now())
    # Providers count in whole seconds and want the return strictly after the borrowing.
    returned_at = max(
        returned_at, order.borrowed_at.replace(microsecond=0) + dt.timedelta(seconds=1)
    )
    order = _begin(
        order,
        actor,
        Op.COMPLETE,
        {
            "returned_at": _iso(returned_at),
            "charge_fen": charge_fen,
            "reason": reason.value,
            "shop_name": shop_name[:30],
        },
        allowed={State.BORROWED, State.OVERDUE},
    )
    return _perform(order, actor)


def cancel_credit_order(*, actor: Actor, order: CreditOrder, reason: str = "") -> CreditOrder:
    """Cancel an order whose book never left (e.g. the order was not shipped)."""
    _require_actor(actor, order.reader_id)
    order = _begin(
        order,
        actor,
        Op.CANCEL,
        {"reason": (reason or "未借出")[:30]},
        allowed={State.PENDING_CONFIRM, State.BORROWED, State.OVERDUE, State.NEW},
    )
    return _perform(order, actor)


def sync_credit_order(*, order: CreditOrder, actor: Actor = SYSTEM) -> CreditOrder:
    """Read the order's state at the provider (reconciliation; after the reader's confirm page)."""
    adapter = _adapter(order.provider)
    try:
        result = adapter.query_order(out_order_no=order.out_order_no)
    except OrderNotFound:
        return order
    except ProviderError as exc:
        raise ProviderFailed(provider=order.provider, reason=exc.code or "error") from None
    return _apply_result(order, result, actor, op="sync")


def retry_pending_operation(*, order_id: int) -> int | None:
    """The ``finish_credit_order`` task body: send the pending operation again; how many
    attempts have failed when it is still pending (the task retries by ``BACKOFF``), None when
    done."""
    order = CreditOrder.objects.filter(pk=order_id).first()
    if order is None or not order.pending_op:
        return None
    attempts = (order.pending_args or {}).get("_attempts", 0) + 1
    CreditOrder.objects.filter(pk=order.pk).update(
        pending_args={**(order.pending_args or {}), "_attempts": attempts}
    )
    order.refresh_from_db()
    try:
        order = _perform(order, SYSTEM)
    except (ProviderFailed, ProviderDisabled, CreditOrderNotFound):
        return None
    if not order.pending_op:
        return None
    return attempts + 1  # the first call, then ``attempts`` retries


def apply_order_event(*, order: CreditOrder, event: ProviderEvent, actor: Actor) -> str:
    """A verified order notification: check the amount, then move the order forward."""
    if event.charged_fen and (
        event.charged_fen > order.deposit_fen or event.charged_fen != order.charge_fen
    ):
        log.warning("credit order %s: notified amount does not match", order.out_order_no)
        return "amount_mismatch"
    if event.order_state is None:
        return "ignored"
    result = CreditOrderResult(
        out_order_no=order.out_order_no,
        state=event.order_state,
        provider_order_no=event.provider_ref,
        charged_fen=event.charged_fen,
    )
    op = Op.START if order.pending_op == Op.START else "notify"
    if order.pending_op and order.pending_op != Op.START:
        # An operation is in flight: take the state, leave finishing it to its own call.
        op = "notify"
    new_state = State(event.order_state.value)
    if RANK[new_state] < RANK[State(order.state)]:
        return "stale"
    if (
        new_state == order.state
        and not order.pending_op
        and not order.last_error
        and event.provider_ref in ("", order.provider_order_no)
        and event.charged_fen == order.charged_fen
    ):
        # What the order already says (usually the notification of an opening a query already
        # applied): nothing to lock or write.
        return "unchanged"
    _apply_result(order, result, actor, op=op)
    return "applied"


def reconcile_credit_orders(
    *, stale_after: dt.timedelta = dt.timedelta(minutes=10)
) -> dict[str, int]:
    """Nightly reconciliation (research note §1.3): finish operations left pending, then ask the
    provider for the state of every open order. Returns counts."""
    finished = synced = failed = 0
    cutoff = clock.now() - stale_after
    for order in CreditOrder.objects.exclude(pending_op="").filter(updated_at__lte=cutoff)[:500]:
        try:
            if not _perform(order, SYSTEM).pending_op:
                finished += 1
        except (ProviderFailed, ProviderDisabled):
            failed += 1
    open_states = [
        s
        for s in State
        if s not in (State.REJECTED, State.RETURNED, State.CHARGED, State.CANCELLED)
    ]
    for order in CreditOrder.objects.filter(pending_op="", state__in=open_states).exclude(
        state=State.NEW
    )[:5000]:
        try:
            sync_credit_order(order=order)
            synced += 1
        except (ProviderFailed, ProviderDisabled):
            failed += 1
    return {"finished": finished, "synced": synced, "failed": failed}
