"""Reads of the readers app, one module per area. The contract's entry points are re-exported
here: ``reader_from_request``, ``has_consent``, ``reader_by_channel_identity``."""

from xinyue.readers.selectors.consents import has_consent, readers_consenting
from xinyue.readers.selectors.identity import (
    reader_by_channel_identity,
    reader_by_id_number,
    reader_from_request,
)

__all__ = [
    "has_consent",
    "reader_by_channel_identity",
    "reader_by_id_number",
    "reader_from_request",
    "readers_consenting",
]
