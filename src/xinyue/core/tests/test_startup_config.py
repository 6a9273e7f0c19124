"""A bad setting stops start-up with one clear line (run as a new process, as an operator would)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run_xinyue(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update(
        {"XINYUE_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "xinyue.settings", **env}
    )
    return subprocess.run(
        [sys.executable, "-m", "xinyue.manage", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


@pytest.mark.parametrize("url", ["mysql//nohost", "not a url", "postgres://"])
def test_malformed_database_url_fails_with_one_line(tmp_path, url):
    result = run_xinyue(tmp_path, "migrate", DATABASE_URL=url)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("xinyue: DATABASE_URL")
    assert "Traceback" not in result.stderr


def test_unreachable_database_fails_with_one_line(tmp_path):
    result = run_xinyue(
        tmp_path, "migrate", DATABASE_URL="postgres://nobody:secret@127.0.0.1:9/xinyue"
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("xinyue: cannot reach the postgresql database at 127.0.0.1:9/xinyue")
    assert "secret" not in result.stderr


def test_bad_boolean_setting_names_the_variable(tmp_path):
    result = run_xinyue(tmp_path, "check", XINYUE_DEBUG="maybe")
    assert result.returncode == 2
    assert result.stderr.strip() == "xinyue: XINYUE_DEBUG='maybe' is not a yes/no value: use 1 or 0"


def test_secret_key_is_generated_once_into_the_data_dir(tmp_path):
    first = run_xinyue(tmp_path, "check")
    assert first.returncode == 0, first.stderr
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    run_xinyue(tmp_path, "check")
    assert (tmp_path / "secret_key").read_text() == key
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
