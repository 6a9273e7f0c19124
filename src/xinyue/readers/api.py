"""API operations of the readers app (mounted under /api/v1/)."""

from ninja import Router

router = Router(tags=["readers"])
