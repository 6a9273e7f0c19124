"""API: a library's staff list (for its own systems) and the caller's identity."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from xinyue.accounts.models import User
from xinyue.core.permissions import require_library
from xinyue.core.schemas import ErrorOut
from xinyue.libraries.selectors import library_get

router = Router(tags=["staff"])


class StaffOut(Schema):
    username: str
    display_name: str
    role: str
    is_active: bool
    library_code: str

    @staticmethod
    def resolve_library_code(obj: User) -> str:
        return obj.library.code


class WhoAmIOut(Schema):
    kind: str
    label: str
    library_code: str | None
    supplier_code: str | None
    roles: list[str]


@router.get("/libraries/{code}/staff", response={200: list[StaffOut], 403: ErrorOut, 404: ErrorOut})
def list_library_staff(request: HttpRequest, code: str) -> Any:
    library = library_get(code=code)
    require_library(request.auth, library.pk)
    return (
        User.objects.filter(kind=User.Kind.STAFF, library=library)
        .select_related("library")
        .order_by("username")
    )


@router.get("/whoami", response=WhoAmIOut, summary="Who the presented credentials act as")
def whoami(request: HttpRequest) -> dict[str, Any]:
    from xinyue.libraries.models import Library
    from xinyue.suppliers.models import Supplier

    actor = request.auth
    library = Library.objects.filter(pk=actor.library_id).first() if actor.library_id else None
    supplier = Supplier.objects.filter(pk=actor.supplier_id).first() if actor.supplier_id else None
    return {
        "kind": actor.kind.value,
        "label": actor.label,
        "library_code": library.code if library else None,
        "supplier_code": supplier.code if supplier else None,
        "roles": sorted(r.value for r in actor.roles),
    }
