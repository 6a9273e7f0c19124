"""API operations of the catalog app (mounted under /api/v1/)."""

from ninja import Router

router = Router(tags=["catalog"])
