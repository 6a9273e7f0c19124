"""schemathesis hooks for ``scripts/api-contract``.

A client sends a fresh ``Idempotency-Key`` for each new request and the same key only to retry
the same request. schemathesis draws keys from the header's schema, so two different requests
often share one (``"0"``) and the API rightly answers 422 ``idempotency_key_reused``. Each
request gets its own key instead; keys over the documented 200 characters are left as drawn, so
the refusal of those is still checked.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis

HEADER = "Idempotency-Key"


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    key = (case.headers or {}).get(HEADER)
    if isinstance(key, str) and len(key) <= 200:
        case.headers[HEADER] = uuid.uuid4().hex
