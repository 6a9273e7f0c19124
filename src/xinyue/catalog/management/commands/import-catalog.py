"""``xinyue import-catalog FILE --supplier CODE``: import a catalog file (MARC ISO 2709 or MARCXML,
MARC21 or CNMARC/UNIMARC; CSV or XLSX with the header of DESIGN §11) for a supplier. Prints how
many records were created, updated and rejected, with the reason of every rejected record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xinyue.catalog.importers import FORMATS
from xinyue.catalog.services.imports import ImportResult, import_catalog
from xinyue.core.actors import SYSTEM
from xinyue.core.errors import DomainError, InvalidInput
from xinyue.suppliers.models import Supplier


class Command(BaseCommand):
    help = "Import a catalog file (MARC, MARCXML, CSV, XLSX) for a supplier."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the catalog file")
        parser.add_argument("--supplier", required=True, help="the supplier's code")
        parser.add_argument("--format", choices=FORMATS, help="default: from the file name")
        parser.add_argument(
            "--default-category",
            help="category for MARC records whose 中图法 class maps to none",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        supplier = Supplier.objects.filter(code=options["supplier"]).first()
        if supplier is None:
            raise CommandError(f"no supplier with code {options['supplier']!r}")

        def progress(result: ImportResult) -> None:
            self.stderr.write(
                f"  … {result.created} created, {result.updated} updated, "
                f"{len(result.rejected)} rejected"
            )

        try:
            with path.open("rb") as handle:
                result = import_catalog(
                    actor=SYSTEM,
                    supplier=supplier,
                    file=handle,
                    filename=path.name,
                    fmt=options["format"],
                    default_category=options["default_category"],
                    progress=progress if options["verbosity"] > 1 else None,
                )
        except InvalidInput as exc:
            raise CommandError("; ".join(f"{k}: {v}" for k, v in exc.fields.items())) from None
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"{path.name} ({result.format}) → {supplier.name}: {result.created} created, "
            f"{result.updated} updated, {len(result.rejected)} rejected"
        )
        for rejection in result.rejected:
            self.stdout.write(
                f"  rejected {rejection.position} {rejection.isbn} {rejection.title}: "
                f"{rejection.reason}"
            )
