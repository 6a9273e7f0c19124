"""API operations of the credit app (mounted under /api/v1/)."""

from ninja import Router

router = Router(tags=["credit"])
