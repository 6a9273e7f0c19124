"""API operations of the circulation app (mounted under /api/v1/)."""

from ninja import Router

router = Router(tags=["circulation"])
