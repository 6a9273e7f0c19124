"""``xinyue create-api-key``: issue (or revoke) a bearer key for a machine client."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xinyue.accounts.models import ApiKey
from xinyue.accounts.services import create_api_key, revoke_api_key
from xinyue.core.actors import SYSTEM
from xinyue.core.errors import DomainError
from xinyue.libraries.models import Library
from xinyue.suppliers.models import Supplier


class Command(BaseCommand):
    help = "Create an API key (the token is printed once) or revoke one with --revoke PREFIX."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", help="what the key is for, e.g. 'Hangzhou ILS'")
        parser.add_argument("--scope", choices=ApiKey.Scope.values, default=ApiKey.Scope.LIBRARY)
        parser.add_argument("--library", help="library code, for --scope library")
        parser.add_argument("--supplier", help="supplier code, for --scope supplier")
        parser.add_argument(
            "--role",
            choices=["desk", "admin"],
            default="",
            help="library keys: desk (default) or admin",
        )
        parser.add_argument("--revoke", metavar="PREFIX", help="revoke the key with this prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["revoke"]:
                key = ApiKey.objects.filter(prefix=options["revoke"]).first()
                if key is None:
                    raise CommandError(f"no key with prefix {options['revoke']}")
                revoke_api_key(actor=SYSTEM, api_key=key)
                self.stdout.write(f"revoked {key.prefix} ({key.name})")
                return
            if not options["name"]:
                raise CommandError("--name is required")
            library = supplier = None
            if options["library"]:
                library = Library.objects.filter(code=options["library"]).first()
                if library is None:
                    raise CommandError(f"--library {options['library']}: no such library")
            if options["supplier"]:
                supplier = Supplier.objects.filter(code=options["supplier"]).first()
                if supplier is None:
                    raise CommandError(f"--supplier {options['supplier']}: no such supplier")
            key, token = create_api_key(
                actor=SYSTEM,
                name=options["name"],
                scope=options["scope"],
                library=library,
                supplier=supplier,
                role=options["role"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(token)
        self.stderr.write(f"key {key.prefix} created; store the token now, it is not shown again")
