"""API operations of the orders app (mounted under /api/v1/)."""

from ninja import Router

router = Router(tags=["orders"])
