"""``xinyue rotate-keys``: a new vault key becomes current and every ciphertext is re-encrypted
under it, in batches, while the platform keeps running. Safe to interrupt and run again."""

from __future__ import annotations

import base64
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xinyue import config
from xinyue.readers import vault
from xinyue.readers.services.vault_keys import reseal_all, stale_count


class Command(BaseCommand):
    help = (
        "Rotate the PII vault key: add a new current key (key-file mode) and re-encrypt every "
        "sealed column under it, in batches, while the platform runs. --resume continues an "
        "interrupted run without a new key; with XINYUE_VAULT_KEYS the operator puts the new key "
        "first in that variable and restarts, and this command re-encrypts."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--resume", action="store_true", help="no new key: finish re-encrypting"
        )
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--max-batches", type=int, default=None, help="stop after N batches")
        parser.add_argument(
            "--algorithm",
            choices=sorted(vault.ALGORITHMS),
            default=None,
            help="algorithm of the new key (default: XINYUE_VAULT_ALGORITHM)",
        )
        parser.add_argument(
            "--prune", action="store_true", help="afterwards, drop keys no ciphertext uses"
        )
        parser.add_argument(
            "--print-new-key",
            action="store_true",
            help="only print a new XINYUE_VAULT_KEYS entry (environment mode) and exit",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(**options)
        except config.ConfigError as exc:
            raise CommandError(str(exc)) from None

    def _handle(self, **options: Any) -> None:
        algorithm = options["algorithm"] or vault.configured_algorithm()
        ring = vault.keyring(refresh=True)
        if options["print_new_key"]:
            key = vault.new_key(algorithm=algorithm, existing=set(ring.keys))
            self.stdout.write(f"{key.id}:{key.algorithm}:{base64.b64encode(key.secret).decode()}")
            return
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        if ring.source == "env" or options["resume"]:
            key_id = ring.current.id
            self.stdout.write(f"re-encrypting under the current key {key_id} ({ring.source})")
        else:
            key = vault.add_current_key(algorithm=algorithm)
            key_id = key.id
            self.stdout.write(f"new current key {key.id} ({key.algorithm}) in {ring.source}")
        report = reseal_all(
            batch_size=options["batch_size"],
            max_batches=options["max_batches"],
            progress=lambda line: self.stderr.write(line),
        )
        self.stdout.write(
            f"re-encrypted {report.total} rows under {key_id}"
            + "".join(f"; {label}: {n}" for label, n in sorted(report.resealed.items()))
        )
        if not report.complete:
            remaining = stale_count()
            self.stdout.write(f"{remaining} rows still under older keys: run with --resume")
            return
        self.stdout.write("every ciphertext is under the current key")
        if options["prune"]:
            if ring.source == "env":
                self.stdout.write("keys come from XINYUE_VAULT_KEYS: remove old entries there")
            else:
                dropped = vault.drop_keys_except_current()
                self.stdout.write(f"dropped keys: {', '.join(dropped) or 'none'}")
