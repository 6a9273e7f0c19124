"""Demo people: an operator, staff at a few libraries, a supplier with staff (idempotent)."""

from __future__ import annotations

from typing import Any

from xinyue.accounts.models import User
from xinyue.accounts.services import create_operator_user, create_staff_user, create_supplier_user
from xinyue.core.actors import SYSTEM
from xinyue.libraries.models import Library
from xinyue.suppliers.models import Supplier
from xinyue.suppliers.services import create_supplier

DEMO_PASSWORD = "xinyue-demo-2026"

STAFF = [
    ("330000", "zjlib_admin", "浙图管理员", "admin"),
    ("330100", "hz_admin", "杭州馆管理员", "admin"),
    ("330100", "hz_desk", "杭州馆流通台", "desk"),
    ("330106", "xihu_desk", "西湖区馆流通台", "desk"),
    ("330200", "nb_admin", "宁波馆管理员", "admin"),
    ("330300", "wz_desk", "温州馆流通台", "desk"),
]


def seed(*, options: dict[str, Any], stdout: Any) -> list[tuple[str, str, str]]:
    credentials = []
    if not User.objects.filter(username="operator").exists():
        create_operator_user(
            actor=SYSTEM, username="operator", password=DEMO_PASSWORD, display_name="平台运营"
        )
    credentials.append(("operator", "operator", DEMO_PASSWORD))
    for code, username, name, role in STAFF:
        library = Library.objects.filter(code=code).first()
        if library is None:
            continue
        if not User.objects.filter(username=username).exists():
            create_staff_user(
                actor=SYSTEM,
                library=library,
                username=username,
                password=DEMO_PASSWORD,
                display_name=name,
                role=role,
            )
        credentials.append((f"{role} @ {library.name}", username, DEMO_PASSWORD))
    supplier = Supplier.objects.filter(code="zjxinhua").first() or create_supplier(
        actor=SYSTEM, code="zjxinhua", name="浙江省新华书店", contact="发行部"
    )
    if not User.objects.filter(username="xinhua").exists():
        create_supplier_user(
            actor=SYSTEM,
            supplier=supplier,
            username="xinhua",
            password=DEMO_PASSWORD,
            display_name="新华书店发货员",
        )
    credentials.append((f"supplier @ {supplier.name}", "xinhua", DEMO_PASSWORD))
    stdout.write(f"demo people ready ({len(credentials)} accounts)")
    return credentials
