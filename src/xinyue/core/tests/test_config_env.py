"""Settings read from the environment through ``config``: unset, empty and set values."""

from __future__ import annotations

from xinyue import config


def test_an_empty_rate_switches_the_limit_off_but_unset_keeps_the_default(monkeypatch):
    monkeypatch.delenv("XINYUE_TEST_RATE", raising=False)
    assert config.env_str("XINYUE_TEST_RATE", "600/min", empty_means_off=True) == "600/min"
    monkeypatch.setenv("XINYUE_TEST_RATE", "")
    assert config.env_str("XINYUE_TEST_RATE", "600/min", empty_means_off=True) == ""
    assert config.env_str("XINYUE_TEST_RATE", "600/min") == "600/min"
    monkeypatch.setenv("XINYUE_TEST_RATE", "5/s")
    assert config.env_str("XINYUE_TEST_RATE", "600/min", empty_means_off=True) == "5/s"
