"""Services of the readers app, one module per area (identity, consents, rights, tokens, phone,
addresses). The entry points other apps call are re-exported here:
``bind_channel_identity``, ``login_reader``, ``register_reader``."""

from xinyue.readers.services.identity import (
    authenticate_reader,
    bind_channel_identity,
    login_reader,
    logout_reader,
    register_reader,
)

__all__ = [
    "authenticate_reader",
    "bind_channel_identity",
    "login_reader",
    "logout_reader",
    "register_reader",
]
