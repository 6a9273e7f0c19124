"""API: the member-library tree (public), library settings and webhook subscriptions (staff)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from xinyue.core.actors import Role
from xinyue.core.permissions import require_library
from xinyue.core.schemas import ErrorOut, ObjectIn
from xinyue.libraries import selectors, services
from xinyue.libraries.models import Library, WebhookSubscription

router = Router(tags=["libraries"])


class LibraryOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None
    city_code: str
    address: str
    phone: str
    is_active: bool
    is_operator: bool

    @staticmethod
    def resolve_parent_code(obj: Library) -> str | None:
        return obj.parent.code if obj.parent_id else None


class LibraryDetailOut(LibraryOut):
    children: list[LibraryOut]

    @staticmethod
    def resolve_children(obj: Library) -> list[Library]:
        return list(obj.children.select_related("parent").order_by("code"))


class LibraryPatchIn(ObjectIn):
    name: str | None = None
    address: str | None = None
    phone: str | None = None
    is_active: bool | None = None
    settings: dict[str, Any] | None = None


class WebhookIn(Schema):
    url: str
    event_types: list[str] = []


class WebhookOut(Schema):
    id: int
    url: str
    event_types: list[str]
    is_active: bool


class WebhookCreatedOut(WebhookOut):
    secret: str


@router.get(
    "/libraries",
    response=list[LibraryOut],
    auth=None,
    summary="The member-library tree, flat, in code order",
)
def list_libraries(request: HttpRequest, active: bool | None = None) -> Any:
    qs = selectors.library_list()
    return qs.filter(is_active=active) if active is not None else qs


@router.get("/libraries/{code}", response={200: LibraryDetailOut, 404: ErrorOut}, auth=None)
def get_library(request: HttpRequest, code: str) -> Any:
    return selectors.library_get(code=code)


@router.patch(
    "/libraries/{code}", response={200: LibraryOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
)
def patch_library(request: HttpRequest, code: str, payload: LibraryPatchIn) -> Any:
    library = selectors.library_get(code=code)
    return services.update_library(
        actor=request.auth,
        library=library,
        name=payload.name,
        address=payload.address,
        phone=payload.phone,
        is_active=payload.is_active,
        settings_values=payload.settings,
    )


@router.get(
    "/libraries/{code}/webhooks", response={200: list[WebhookOut], 403: ErrorOut, 404: ErrorOut}
)
def list_webhooks(request: HttpRequest, code: str) -> Any:
    library = selectors.library_get(code=code)
    require_library(request.auth, library.pk, role=Role.ADMIN)
    return WebhookSubscription.objects.filter(library=library).order_by("id")


@router.post(
    "/libraries/{code}/webhooks",
    response={201: WebhookCreatedOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Subscribe a library system to events; the signing secret is returned once",
)
def create_webhook(request: HttpRequest, code: str, payload: WebhookIn) -> Any:
    library = selectors.library_get(code=code)
    subscription = services.subscribe_webhook(
        actor=request.auth, library=library, url=payload.url, event_types=payload.event_types
    )
    return Status(201, subscription)
