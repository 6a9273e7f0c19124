"""The audit log in words for the console page: who did what to which object, the raw row kept
for whoever needs it. Presentation only: the rows themselves are written by
``xinyue.core.audit.record`` and never change.

An action or object type missing from the tables below is shown by its code, so a new action
appears on the page at once and gets its words here."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xinyue.core.models import AuditEntry
from xinyue.libraries.models import Library

ACTIONS: dict[str, Promise] = {
    "operator.created": pgettext_lazy("audit action", "新建运营方账户"),
    "staff.created": pgettext_lazy("audit action", "新建馆员账户"),
    "user.enabled": pgettext_lazy("audit action", "启用账户"),
    "user.disabled": pgettext_lazy("audit action", "停用账户"),
    "supplier.created": pgettext_lazy("audit action", "新建书商"),
    "supplier_user.created": pgettext_lazy("audit action", "新建书商账户"),
    "supplier.outbound_allowed": pgettext_lazy("audit action", "允许书商 Webhook 访问的网段"),
    "supplier_webhook.subscribed": pgettext_lazy("audit action", "书商订阅 Webhook"),
    "api_key.created": pgettext_lazy("audit action", "新建 API 密钥"),
    "api_key.revoked": pgettext_lazy("audit action", "吊销 API 密钥"),
    "libraries.loaded": pgettext_lazy("audit action", "导入成员馆名录"),
    "library.updated": pgettext_lazy("audit action", "修改成员馆信息"),
    "library.outbound_allowed": pgettext_lazy("audit action", "修改成员馆可访问的内部网络"),
    "webhook.subscribed": pgettext_lazy("audit action", "订阅 Webhook"),
    "kiosk.created": pgettext_lazy("audit action", "新建自助借还机账户"),
    "kiosk.changed": pgettext_lazy("audit action", "修改自助借还机账户"),
    "reader.registered": pgettext_lazy("audit action", "读者注册"),
    "reader.logged_in": pgettext_lazy("audit action", "读者登录"),
    "reader.login_locked": pgettext_lazy("audit action", "读者登录被锁定"),
    "reader.login_unlocked": pgettext_lazy("audit action", "读者用短信验证码解除登录锁定"),
    "search_term.hidden": pgettext_lazy("audit action", "不公开检索词"),
    "search_term.blocked": pgettext_lazy("audit action", "屏蔽检索词"),
    "search_term.rule_removed": pgettext_lazy("audit action", "恢复检索词"),
    "reader.token_issued": pgettext_lazy("audit action", "签发读者令牌"),
    "reader.password_changed": pgettext_lazy("audit action", "修改密码"),
    "reader.phone_code_sent": pgettext_lazy("audit action", "发送手机验证码"),
    "reader.phone_verified": pgettext_lazy("audit action", "验证手机号"),
    "reader.channel_bound": pgettext_lazy("audit action", "绑定支付宝/微信账号"),
    "reader.address_added": pgettext_lazy("audit action", "添加收货地址"),
    "reader.address_deleted": pgettext_lazy("audit action", "删除收货地址"),
    "reader.address_updated": pgettext_lazy("audit action", "修改收货地址"),
    "reader.address_default_set": pgettext_lazy("audit action", "设置默认收货地址"),
    "reader.looked_up": pgettext_lazy("audit action", "服务台查找读者"),
    "reader.exported": pgettext_lazy("audit action", "导出个人数据"),
    "reader.deleted": pgettext_lazy("audit action", "注销读者账户"),
    "consent.granted": pgettext_lazy("audit action", "同意授权"),
    "consent.withdrawn": pgettext_lazy("audit action", "撤回授权"),
    "consent_text.published": pgettext_lazy("audit action", "发布授权文本"),
    "vault.rotated": pgettext_lazy("audit action", "轮换加密密钥"),
    "card.issued": pgettext_lazy("audit action", "办理读者证"),
    "card.suspended": pgettext_lazy("audit action", "暂停读者证"),
    "card.reinstated": pgettext_lazy("audit action", "恢复读者证"),
    "card.cancelled": pgettext_lazy("audit action", "注销读者证"),
    "loan.returned": pgettext_lazy("audit action", "归还图书"),
    "loan.checked_out": pgettext_lazy("audit action", "服务台借出图书"),
    "loan.return_booked": pgettext_lazy("audit action", "预约快递或书柜归还"),
    "loan.handed_over": pgettext_lazy("audit action", "归还图书已交寄"),
    "borrow_session.created": pgettext_lazy("audit action", "生成扫码信用借书二维码"),
    "borrow_session.confirmed": pgettext_lazy("audit action", "读者扫码确认信用借书"),
    "loan.renewed": pgettext_lazy("audit action", "续借图书"),
    "item.transferred": pgettext_lazy("audit action", "归还图书转入本馆馆藏"),
    "item.found": pgettext_lazy("audit action", "遗失图书找回入藏"),
    "loan.lost": pgettext_lazy("audit action", "借阅登记遗失"),
    "loan.settled": pgettext_lazy("audit action", "遗失赔偿结清"),
    "loan.compensation_paid": pgettext_lazy("audit action", "服务台收取遗失赔偿"),
    "loan.compensation_unpaid_paid": pgettext_lazy("audit action", "服务台收取超出押金的赔偿余款"),
    "loan.refund_due": pgettext_lazy("audit action", "遗失图书找回，赔偿待退还"),
    "loan.compensation_refunded": pgettext_lazy("audit action", "服务台退还遗失赔偿"),
    "credit_record.disputed": pgettext_lazy("audit action", "读者对信用记录提出异议"),
    "credit_record.answered": pgettext_lazy("audit action", "处理信用记录异议"),
    "credit.reconciled": pgettext_lazy("audit action", "信用订单夜间对账"),
    "circulation_rule.saved": pgettext_lazy("audit action", "保存流通规则"),
    "circulation_rule.deleted": pgettext_lazy("audit action", "删除流通规则"),
    "card.linked": pgettext_lazy("audit action", "绑定已有读者证"),
    "card.link_failed": pgettext_lazy("audit action", "绑定读者证未通过核验"),
    "card.link_requested": pgettext_lazy("audit action", "申请人工核验绑定"),
    "card.link_refused": pgettext_lazy("audit action", "退回绑定申请"),
    "card_review.requested": pgettext_lazy("audit action", "申请人工审核"),
    "card_review.approved": pgettext_lazy("audit action", "通过人工审核"),
    "card_review.refused": pgettext_lazy("audit action", "退回人工审核"),
    "card_requests.withdrawn": pgettext_lazy("audit action", "撤回办证申请"),
    "credit.setting_changed": pgettext_lazy("audit action", "修改信用服务设置"),
    "credit.authorization_started": pgettext_lazy("audit action", "发起信用授权"),
    "credit.authorization_decided": pgettext_lazy("audit action", "信用评估出结果"),
    "credit.authorization_cancelled": pgettext_lazy("audit action", "取消信用授权"),
    "order.placed": pgettext_lazy("audit action", "下单（信阅借书）"),
    "order.confirmed": pgettext_lazy("audit action", "订单确认（信用订单已开通）"),
    "order.shipped": pgettext_lazy("audit action", "书商发货"),
    "order.delivered": pgettext_lazy("audit action", "订单送达，借阅开始"),
    "order.line_rejected": pgettext_lazy("audit action", "书商无法供书（单册退回）"),
    "order.rejected": pgettext_lazy("audit action", "订单被拒绝"),
    "order.address_viewed": pgettext_lazy("audit action", "查看订单收货地址（装箱单）"),
    "waitlist.joined": pgettext_lazy("audit action", "加入等候名单"),
    "waitlist.left": pgettext_lazy("audit action", "退出等候名单"),
    "orders.rules_changed": pgettext_lazy("audit action", "修改信阅借书规则"),
    "orders.budget_period_opened": pgettext_lazy("audit action", "开设预算期"),
    "orders.budget_top_up": pgettext_lazy("audit action", "追加购书预算"),
    "credit.order_opened": pgettext_lazy("audit action", "信用订单开单"),
    "credit.order_start": pgettext_lazy("audit action", "信用订单开单"),
    "credit.order_extend": pgettext_lazy("audit action", "信用订单续期"),
    "credit.order_complete": pgettext_lazy("audit action", "信用订单完结"),
    "credit.order_cancel": pgettext_lazy("audit action", "信用订单撤销"),
    "credit.deduction": pgettext_lazy("audit action", "信用扣款"),
    "catalog.imported": pgettext_lazy("audit action", "导入书目"),
    "catalog.bulk_added": pgettext_lazy("audit action", "批量添加书目"),
    "catalog.search_index_rebuilt": pgettext_lazy("audit action", "重建检索索引"),
    "offer.stock_updated": pgettext_lazy("audit action", "更新供书库存"),
    "category.created": pgettext_lazy("audit action", "新建图书分类"),
    "category.updated": pgettext_lazy("audit action", "修改图书分类"),
    "category.deleted": pgettext_lazy("audit action", "删除图书分类"),
    "pick.added": pgettext_lazy("audit action", "添加推荐"),
    "pick.removed": pgettext_lazy("audit action", "移除推荐"),
    "pick.moved": pgettext_lazy("audit action", "调整推荐顺序"),
    "pick.shown": pgettext_lazy("audit action", "显示推荐"),
    "pick.hidden": pgettext_lazy("audit action", "隐藏推荐"),
    "notice.created": pgettext_lazy("audit action", "发布通知"),
    "notice.updated": pgettext_lazy("audit action", "修改通知"),
    "notice.deleted": pgettext_lazy("audit action", "删除通知"),
    "shelf.added": pgettext_lazy("audit action", "加入书架"),
    "shelf.removed": pgettext_lazy("audit action", "移出书架"),
    "shelf.merged": pgettext_lazy("audit action", "合并书架"),
    "worker.probe": pgettext_lazy("audit action", "后台任务自检"),
}

OBJECTS: dict[str, Promise] = {
    "accounts.user": pgettext_lazy("audit object", "账户"),
    "accounts.apikey": pgettext_lazy("audit object", "API 密钥"),
    "libraries.library": pgettext_lazy("audit object", "成员馆"),
    "libraries.webhooksubscription": pgettext_lazy("audit object", "Webhook 订阅"),
    "sip2.kioskaccount": pgettext_lazy("audit object", "自助借还机账户"),
    "suppliers.supplierwebhooksubscription": pgettext_lazy("audit object", "书商 Webhook 订阅"),
    "readers.reader": pgettext_lazy("audit object", "读者"),
    "readers.card": pgettext_lazy("audit object", "读者证"),
    "readers.manualreview": pgettext_lazy("audit object", "人工审核申请"),
    "readers.cardlinkrequest": pgettext_lazy("audit object", "绑定申请"),
    "readers.address": pgettext_lazy("audit object", "收货地址"),
    "readers.consenttext": pgettext_lazy("audit object", "授权文本"),
    "readers.vaultkey": pgettext_lazy("audit object", "加密密钥"),
    "credit.creditauthorization": pgettext_lazy("audit object", "信用授权"),
    "credit.creditorder": pgettext_lazy("audit object", "信用订单"),
    "credit.creditsetting": pgettext_lazy("audit object", "信用服务设置"),
    "catalog.supplier": pgettext_lazy("audit object", "书商"),
    "catalog.title": pgettext_lazy("audit object", "书目"),
    "catalog.offer": pgettext_lazy("audit object", "供书"),
    "catalog.category": pgettext_lazy("audit object", "图书分类"),
    "catalog.pick": pgettext_lazy("audit object", "推荐"),
    "catalog.notice": pgettext_lazy("audit object", "通知"),
    "catalog.shelfentry": pgettext_lazy("audit object", "书架条目"),
    "orders.order": pgettext_lazy("audit object", "信阅借书订单"),
    "orders.platformrules": pgettext_lazy("audit object", "信阅借书规则"),
    "orders.budgetperiod": pgettext_lazy("audit object", "预算期"),
    "circulation.loan": pgettext_lazy("audit object", "借阅"),
    "circulation.item": pgettext_lazy("audit object", "图书（册）"),
    "circulation.circulationrule": pgettext_lazy("audit object", "流通规则"),
}

ACTOR_KINDS: dict[str, Promise] = {
    "operator": pgettext_lazy("audit actor", "运营方"),
    "staff": pgettext_lazy("audit actor", "馆员"),
    "supplier": pgettext_lazy("audit actor", "书商"),
    "reader": pgettext_lazy("audit actor", "读者"),
    "system": pgettext_lazy("audit actor", "系统"),
}

CHANNELS: dict[str, Promise] = {
    "alipay": pgettext_lazy("audit channel", "支付宝"),
    "wechat": pgettext_lazy("audit channel", "微信"),
    "pc": pgettext_lazy("audit channel", "网页"),
    "desk": pgettext_lazy("audit channel", "服务台"),
    "kiosk": pgettext_lazy("audit channel", "自助机"),
    "api": pgettext_lazy("audit channel", "接口"),
    "system": pgettext_lazy("audit channel", "系统"),
}

# Detail keys that name the object better than its row id (none of them is personal data).
NAMING_KEYS = ("number", "username", "code", "title", "name", "purpose", "request_no")


@dataclass(frozen=True)
class AuditLine:
    entry: AuditEntry
    who: str
    what: str
    which: str
    channel: str
    library: str
    raw: str


def _who(entry: AuditEntry) -> str:
    if entry.actor_ref.startswith("apikey:"):
        return str(_("API 密钥“%(name)s”")) % {"name": entry.actor_label}
    kind = str(ACTOR_KINDS.get(entry.actor_kind, entry.actor_kind))
    if entry.actor_kind == "system":
        return kind
    if entry.actor_kind == "reader" and entry.actor_label.startswith("reader:"):
        return str(_("读者（编号 %(id)s）")) % {"id": entry.actor_label.removeprefix("reader:")}
    return f"{kind} {entry.actor_label}"


def _which(entry: AuditEntry) -> str:
    if not entry.object_type:
        return ""
    words = str(OBJECTS.get(entry.object_type, entry.object_type))
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    names = [str(detail[k]) for k in NAMING_KEYS if detail.get(k) not in (None, "")]
    if names:
        return f"{words} {names[0]}"
    return f"{words} #{entry.object_id}" if entry.object_id else words


def _raw(entry: AuditEntry) -> str:
    return json.dumps(
        {
            "action": entry.action,
            "actor": entry.actor_ref,
            "actor_label": entry.actor_label,
            "actor_kind": entry.actor_kind,
            "channel": entry.channel,
            "object": f"{entry.object_type}:{entry.object_id}" if entry.object_type else "",
            "library_code": entry.library_code,
            "detail": entry.detail,
        },
        ensure_ascii=False,
        indent=2,
        default=str,
    )


def describe(entries: Iterable[AuditEntry]) -> list[AuditLine]:
    """The rows as the console shows them (one query for the library names of the page)."""
    rows = list(entries)
    codes = {e.library_code for e in rows if e.library_code}
    names = dict(Library.objects.filter(code__in=codes).values_list("code", "name"))
    return [
        AuditLine(
            entry=e,
            who=_who(e),
            what=str(ACTIONS.get(e.action, e.action)),
            which=_which(e),
            channel=str(CHANNELS.get(e.channel, e.channel)),
            library=names.get(e.library_code, e.library_code),
            raw=_raw(e),
        )
        for e in rows
    ]
