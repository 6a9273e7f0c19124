"""The built-in first version of each consent text (purpose, title, recipient, body).

Published by migration 0003, and again on first use if the table was emptied (a test database
flushed between transactional tests, a partial restore). Never edit these: a changed text is a new
version, published with ``services.consents.publish_consent_text``.

The titles are marked for translation (gettext_noop: stored in Chinese, translated when shown,
``{% translate text.title %}``); the bodies are the texts readers consent to and stay as written.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

DEFAULT_TEXTS = [
    (
        "id_number",
        gettext_noop("处理身份证号（敏感个人信息）的单独同意"),
        "",
        "为在全省成员馆为您建立统一的读者身份、办理和关联读者证，信阅平台需要处理您的居民身份证号码。"
        "身份证号属于敏感个人信息：平台仅以加密方式保存，以带密钥的摘要进行查找，页面与日志只显示脱敏后的号码"
        "（如 330***********1234）；除法律法规要求外，不向任何第三方提供。"
        "您可以随时撤回本同意；撤回后平台不再以身份证号为您办理新的读者证，您也可以申请注销账户。",
    ),
    (
        "credit_check",
        gettext_noop("信用评估授权"),
        "芝麻信用（支付宝（中国）网络技术有限公司）/ 微信支付分（财付通支付科技有限公司），以您选择的为准",
        "为判断您能否免押金办理信用读者证，您授权信阅平台请您选择的信用服务机构评估您的信用是否达到平台准入标准。"
        "平台只接收“是否准入”的结论，不获取、不保存您的信用分数。评估结果由自动化方式作出，"
        "您有权要求说明理由，并可选择押金办证或到馆人工审核。您可以随时撤回本授权，撤回后平台停止向信用服务机构查询。",
    ),
    (
        "share_borrowing",
        gettext_noop("向信用服务机构提供借阅记录的单独同意"),
        "芝麻信用（支付宝（中国）网络技术有限公司）/ 微信支付分（财付通支付科技有限公司），以您使用的为准",
        "使用信用借阅时，平台需要向信用服务机构提供您的借阅、归还、逾期和赔付记录（书名、借还时间、应还日期、赔付金额），"
        "用于免押借阅订单的履约和您的信用记录。接收方的名称见上；联系方式以其官方客服为准。"
        "您可以随时撤回本同意；撤回后平台不再同步新的借阅记录，新的信用借阅将暂停，您仍可使用押金证借阅。",
    ),
]
