"""``xinyue seed-demo``: demo data for every app, idempotent; prints the demo accounts."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Load demo data (libraries, people, and what later apps add). Safe to run again."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--titles", type=int, default=None, help="catalog size (catalog app)")

    def handle(self, *args: Any, **options: Any) -> None:
        credentials: list[tuple[str, str, str]] = []
        for config in apps.get_app_configs():
            if not config.name.startswith("xinyue."):
                continue
            try:
                demo = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name == f"{config.name}.demo":
                    continue
                raise
            with transaction.atomic():
                credentials += demo.seed(options=options, stdout=self.stdout) or []
        if credentials:
            self.stdout.write("\nDemo accounts (also in README.md):")
            width = max(len(c[0]) for c in credentials)
            for role, login, password in credentials:
                self.stdout.write(f"  {role:<{width}}  {login:<24} {password}")
