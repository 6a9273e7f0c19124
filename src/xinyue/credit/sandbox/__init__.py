"""The sandbox credit provider: a real local gateway speaking the Zhima wire protocol.

It plays Alipay/Zhima's side (its own keys, its own tables, its own pages) so that the platform's
adapters are exercised over HTTP exactly as against the real gateway. ``wechat`` is a gateway of
the same kind for WeChat Pay Score APIv3 (in memory, for tests).
"""
