"""``xinyue load-libraries FILE``: create or update member libraries from a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xinyue.core.actors import SYSTEM
from xinyue.core.errors import DomainError
from xinyue.libraries.services import load_library_file


class Command(BaseCommand):
    help = "Load member libraries from CSV: code,name,level,parent_code,address,phone,is_operator"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            result = load_library_file(actor=SYSTEM, path=path)
        except DomainError as exc:
            lines = [f"{field}: {message}" for field, message in getattr(exc, "fields", {}).items()]
            raise CommandError("\n".join([exc.message, *lines])) from None
        self.stdout.write(
            f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}"
        )
