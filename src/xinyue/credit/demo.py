"""Demo credit decisions, made through the real services against the embedded sandbox
(idempotent): the readers app's "admitted" demo readers approve with a test score of 600, the
"refused" one with 549. Each gets a sandbox test user (``demo-reader-<id>``) bound as their
channel identity, so "log in with the sandbox" works for them too.

``seed-demo`` runs before the web server and inside a transaction, so the sandbox is reached in
process (``providers.http.in_process``): the same signing, views and checks, without a socket.
The sandbox's notifications are queued and arrive once a worker runs; they find the decision
already taken (by the query) and change nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from xinyue.credit import conf, selectors, services
from xinyue.credit.providers.http import in_process

SCORES = {"admitted": 600, "refused": 549}


def seed(*, options: dict[str, Any], stdout: Any) -> list[tuple[str, str, str]]:
    from xinyue.credit.sandbox import gateway
    from xinyue.readers.demo import DEMO_PASSWORD, demo_reader
    from xinyue.readers.selectors.identity import channel_identities
    from xinyue.readers.services import bind_channel_identity
    from xinyue.readers.services.identity import reader_actor

    if not conf.is_configured("sandbox") or not selectors.provider_setting("sandbox").enabled:
        stdout.write("credit sandbox is off: no demo credit decisions")
        return []
    base = conf.sandbox_base_url()
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base))
    decided = 0
    with in_process(origin) as session:
        for key, score in SCORES.items():
            for reader in demo_reader(key):
                if selectors.current_admittance(reader=reader) is not None:
                    continue
                # The reader's sandbox account has a password (the demo readers' own), like an
                # Alipay account: the sandbox's log-in page neither lists nor accepts it without.
                user = gateway.user_by_login(f"demo-reader-{reader.pk}", score=score)
                gateway.set_user_password(user, DEMO_PASSWORD)
                if not any(i.provider == "sandbox" for i in channel_identities(reader=reader)):
                    bind_channel_identity(
                        reader=reader, provider="sandbox", external_id=user.user_id
                    )
                actor = reader_actor(reader)
                authorization = services.start_authorization(
                    actor=actor, reader=reader, provider="sandbox"
                )
                session.post(
                    authorization.confirm_url,
                    data={"decision": "approve", "score": str(score)},
                    allow_redirects=False,
                    timeout=10,
                )
                authorization = services.refresh_authorization(
                    actor=actor, authorization=authorization
                )
                decided += 1
                stdout.write(
                    f"demo credit: reader {reader.pk} {authorization.status} "
                    f"(sandbox test user {user.login}, score {score}, "
                    f"threshold {authorization.threshold})"
                )
    if not decided:
        stdout.write("demo credit decisions already in place")
    # Cards need the decisions above, and the readers app seeds before this one.
    from xinyue.cards.demo import seed as seed_cards

    return seed_cards(options=options, stdout=stdout) or []
