"""The PII vault: AEAD bound to table/column/row and key id, SM4-GCM, key sources, rotation."""

from __future__ import annotations

import base64
import io
import json
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xinyue import config
from xinyue.readers import vault
from xinyue.readers.models import Address, Reader
from xinyue.readers.selectors.identity import reader_pii
from xinyue.readers.services.identity import register_reader
from xinyue.readers.services.vault_keys import reseal_all, stale_count
from xinyue.readers.tests.identities import ALICE, ALICE_ID, BOB

WHERE = {"table": "readers_reader", "column": "name_ct", "row": "r-1"}


@pytest.fixture
def key_file(tmp_path, settings):
    """A private key file for the test (never the shared one in the data directory)."""
    path = tmp_path / "vault_keys.json"
    settings.XINYUE_VAULT_KEYS = ""
    settings.XINYUE_VAULT_KEY_FILE = str(path)
    return path  # the key ring reloads by itself when the settings go back


def flip(token: str, position: int) -> str:
    key_id, _, b64 = token.partition("$")
    raw = bytearray(base64.b64decode(b64))
    raw[position] ^= 0x01
    return f"{key_id}${base64.b64encode(bytes(raw)).decode()}"


class TestSealing:
    def test_round_trip_and_fresh_nonce(self, key_file):
        one = vault.seal_value("林晓雨", **WHERE)
        two = vault.seal_value("林晓雨", **WHERE)
        assert one != two
        assert one.startswith("a1$")
        assert "林晓雨" not in one
        assert vault.open_value(one, **WHERE) == vault.open_value(two, **WHERE) == "林晓雨"

    @pytest.mark.parametrize("position", [0, 11, 12, 20, -1])
    def test_one_flipped_byte_is_refused(self, key_file, position):
        token = vault.seal_value("13812345678", **WHERE)
        with pytest.raises(vault.VaultError):
            vault.open_value(flip(token, position), **WHERE)

    @pytest.mark.parametrize(
        "other",
        [
            {**WHERE, "table": "readers_address"},
            {**WHERE, "column": "phone_ct"},
            {**WHERE, "row": "r-2"},
        ],
    )
    def test_bound_to_table_column_and_row(self, key_file, other):
        token = vault.seal_value("13812345678", **WHERE)
        with pytest.raises(vault.VaultError):
            vault.open_value(token, **other)

    def test_key_id_is_authenticated(self, key_file):
        vault.add_current_key()
        token = vault.seal_value("x", **WHERE)
        assert token.startswith("a2$")
        with pytest.raises(vault.VaultError):
            vault.open_value("a1" + token[2:], **WHERE)
        with pytest.raises(vault.VaultError):
            vault.open_value("zz" + token[2:], **WHERE)

    def test_key_file_is_private_and_generated_once(self, key_file):
        vault.keyring(refresh=True)
        assert key_file.stat().st_mode & 0o777 == 0o600
        first = key_file.read_text()
        vault.keyring(refresh=True)
        assert key_file.read_text() == first
        assert json.loads(first)["keys"][0]["algorithm"] == "aes-256-gcm"

    def test_sm4_gcm(self, key_file, settings):
        settings.XINYUE_VAULT_ALGORITHM = "sm4-gcm"
        token = vault.seal_value("330106199001010026", **WHERE)
        assert token.startswith("s1$")
        assert len(base64.b64decode(token[3:])) == 12 + 18 + 16
        assert vault.open_value(token, **WHERE) == "330106199001010026"
        with pytest.raises(vault.VaultError):
            vault.open_value(flip(token, 15), **WHERE)

    def test_environment_keys(self, key_file, settings):
        secret = base64.b64encode(b"k" * 32).decode()
        old = base64.b64encode(b"o" * 16).decode()
        settings.XINYUE_VAULT_KEYS = f"e2:aes-256-gcm:{secret},e1:sm4-gcm:{old}"
        ring = vault.keyring()
        assert (ring.current.id, sorted(ring.keys), ring.source) == ("e2", ["e1", "e2"], "env")
        assert vault.seal_value("x", **WHERE).startswith("e2$")
        assert not key_file.exists()
        with pytest.raises(config.ConfigError):
            vault.add_current_key()

    @pytest.mark.parametrize(
        "value",
        [
            "a1",
            "a1:aes-256-gcm:not-base64!",
            "a1:aes-256-gcm:" + base64.b64encode(b"short").decode(),
        ],
    )
    def test_bad_environment_keys_say_what_to_fix(self, key_file, settings, value):
        settings.XINYUE_VAULT_KEYS = value
        with pytest.raises(config.ConfigError) as exc:
            vault.keyring()
        assert "XINYUE_VAULT_KEYS" in str(exc.value)

    def test_blind_index_is_keyed(self, settings):
        settings.XINYUE_BLIND_INDEX_KEY = "one"
        a = vault.blind_index("id_number", ALICE_ID)
        settings.XINYUE_BLIND_INDEX_KEY = "two"
        b = vault.blind_index("id_number", ALICE_ID)
        assert a != b
        assert len(a) == 64
        assert vault.blind_index("ip", ALICE_ID) != b


@pytest.mark.django_db
class TestModelSealing:
    def test_ciphertext_copied_to_another_reader_does_not_open(self, key_file):
        alice = register_reader(**ALICE)
        bob = register_reader(**BOB)
        Reader.objects.filter(pk=bob.pk).update(name_ct=alice.name_ct)
        bob.refresh_from_db()
        with pytest.raises(vault.VaultError):
            vault.unseal(bob, "name_ct")
        Reader.objects.filter(pk=alice.pk).update(phone_ct=alice.name_ct)
        alice.refresh_from_db()
        with pytest.raises(vault.VaultError):
            vault.unseal(alice, "phone_ct")

    def test_sealed_fields_registry(self):
        found = {
            model._meta.label: [f.name for f in fields] for model, fields in vault.sealed_fields()
        }
        assert found["readers.Reader"] == ["id_number_ct", "name_ct", "phone_ct"]
        assert found["readers.Address"] == ["detail_ct", "recipient_ct", "phone_ct"]


def add_address(reader: Reader) -> Address:
    address = Address(reader=reader, district_code="330106")
    vault.seal(address, "detail_ct", "文三路 1 号")
    vault.seal(address, "recipient_ct", "林晓雨")
    vault.seal(address, "phone_ct", "13812345678")
    address.save()
    return address


@pytest.mark.django_db
class TestRotation:
    def _readers(self, n: int) -> list[Reader]:
        from stdnum.cn import ric

        readers = []
        for i in range(n):
            body = f"33010619900101{i + 101:03d}"
            number = body + ric.calc_check_digit(body + "0")
            readers.append(
                register_reader(
                    id_number=number,
                    name="测试读者",
                    phone=f"1381234{i:04d}",
                    password="read-more-books-7",
                )
            )
        return readers

    def test_rotate_keys_command(self, key_file):
        readers = self._readers(5)
        add_address(readers[0])
        out = io.StringIO()
        call_command("rotate-keys", batch_size=2, stdout=out, stderr=io.StringIO())
        text = out.getvalue()
        assert "new current key a2 (aes-256-gcm)" in text
        assert "re-encrypted 6 rows under a2; readers.Address: 1; readers.Reader: 5" in text
        assert "every ciphertext is under the current key" in text
        for reader in Reader.objects.all():
            assert all(
                getattr(reader, f).startswith("a2$")
                for f in ("id_number_ct", "name_ct", "phone_ct")
            )
            assert reader_pii(reader=reader).name == "测试读者"
        assert vault.unseal(Address.objects.get(), "detail_ct") == "文三路 1 号"
        assert sorted(vault.keyring().keys) == ["a1", "a2"]
        # Prune: nothing uses a1 any more.
        out = io.StringIO()
        call_command("rotate-keys", resume=True, prune=True, stdout=out, stderr=io.StringIO())
        assert "dropped keys: a1" in out.getvalue()
        assert sorted(vault.keyring().keys) == ["a2"]
        assert reader_pii(reader=Reader.objects.first()).phone == "13812340000"

    def test_interrupted_rotation_resumes_and_new_writes_use_the_new_key(self, key_file):
        self._readers(5)
        call_command(
            "rotate-keys", batch_size=2, max_batches=1, stdout=io.StringIO(), stderr=io.StringIO()
        )
        assert stale_count() == 3
        # Meanwhile the platform keeps working: old rows open, a registration seals under a2.
        assert {reader_pii(reader=r).name for r in Reader.objects.all()} == {"测试读者"}
        late = register_reader(**ALICE)
        assert late.name_ct.startswith("a2$")
        out = io.StringIO()
        call_command("rotate-keys", resume=True, stdout=out, stderr=io.StringIO())
        assert "re-encrypted 3 rows under a2" in out.getvalue()
        assert stale_count() == 0

    def test_rotation_to_sm4(self, key_file):
        self._readers(2)
        report_out = io.StringIO()
        call_command("rotate-keys", algorithm="sm4-gcm", stdout=report_out, stderr=io.StringIO())
        assert "new current key s1 (sm4-gcm)" in report_out.getvalue()
        assert {r.phone_ct[:3] for r in Reader.objects.all()} == {"s1$"}
        assert {reader_pii(reader=r).name for r in Reader.objects.all()} == {"测试读者"}

    def test_environment_mode_re_encrypts_to_the_variable_s_first_key(self, key_file, settings):
        old = base64.b64encode(b"o" * 32).decode()
        settings.XINYUE_VAULT_KEYS = f"e1:aes-256-gcm:{old}"
        vault.keyring()
        self._readers(2)
        new = base64.b64encode(b"n" * 32).decode()
        settings.XINYUE_VAULT_KEYS = f"e2:aes-256-gcm:{new},e1:aes-256-gcm:{old}"
        report = reseal_all(batch_size=10)
        assert report.complete
        assert report.total == 2
        assert {r.name_ct[:3] for r in Reader.objects.all()} == {"e2$"}

    def test_print_new_key(self, key_file):
        out = io.StringIO()
        call_command("rotate-keys", print_new_key=True, stdout=out)
        key_id, algorithm, b64 = out.getvalue().strip().split(":")
        assert (key_id, algorithm, len(base64.b64decode(b64))) == ("a2", "aes-256-gcm", 32)

    def test_bad_key_file(self, key_file):
        key_file.write_text("{not json")
        with pytest.raises(CommandError):
            call_command("rotate-keys", stdout=io.StringIO())
        shutil.os.remove(key_file)
