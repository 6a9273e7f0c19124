"""pypinyin's phrase table, loaded compactly (docs/decisions.md, "Worker memory: pypinyin").

pypinyin reads ``phrases_dict.json`` (47,000 phrases, 2.5 MB) with ``json.loads`` into a list of
lists of strings per phrase: about 35 MB of small objects in every process that highlights a
Latin query by pinyin. The table holds only ~1,250 distinct inner lists (a reading, rarely two)
and ~1,500 distinct readings, so this loader reads the same file line by line and shares each
distinct inner list and string: the same mapping, equal value for value (a test compares it with
``json.loads`` of the file), in a few MB. pypinyin ``deepcopy``s a phrase's readings before using
them, so sharing is safe.

``install()`` puts the table in place as the ``pypinyin.phrases_dict`` module before pypinyin is
first imported; if pypinyin was imported already, it does nothing (the result is the same, only
larger).
"""

from __future__ import annotations

import json
import os
import sys
import types
import unicodedata
from array import array
from pathlib import Path


def _data_path(name: str) -> Path:
    """One of pypinyin's data files, found on the import path without importing pypinyin
    (importing it loads its tables)."""
    for entry in sys.path:
        candidate = Path(entry or ".") / "pypinyin" / name
        if candidate.is_file():
            return candidate
    raise ImportError("pypinyin is not installed")  # pragma: no cover - a project dependency


def phrases_path() -> Path:
    """pypinyin's phrase table (``phrases_dict.json``)."""
    return _data_path("phrases_dict.json")


def readings_path() -> Path:
    """pypinyin's single-character table (``pinyin_dict.json``: code point → "zhòng,chóng")."""
    return _data_path("pinyin_dict.json")


def toneless(reading: str) -> str:
    """A reading as ``Style.NORMAL`` writes it: tone marks dropped, ü written v (lǜ → lv,
    ế → e, ḿ → m)."""
    if reading.isascii():
        return reading
    out = []
    for char in unicodedata.normalize("NFD", reading):
        if char == "\u0308":  # the diaeresis of ü
            out[-1] = "v"
        elif not unicodedata.combining(char):
            out.append(char)
    return "".join(out)


class Readings:
    """Every toneless reading of each Han character, from pypinyin's single-character table
    alone: a 2-byte index per code point into the ~3,000 distinct reading sets (under 0.5 MB).

    For highlighting a Latin query in Han text, where a character read any of its ways may be
    marked; the index's pinyin tokens keep pypinyin's phrase-aware readings."""

    FIRST = 0x3000
    # Readings pypinyin gives a character only inside a phrase of its phrase table (乐亭 lào,
    # 彰明较着 zhù, 旋干转坤 qián, 火燵 tā), so that every reading the index may hold is here
    # (``test_pinyin_data`` checks it against both tables).
    PHRASE_ONLY = {"乐": "lao", "着": "zhu", "干": "qian", "燵": "ta"}

    def __init__(self, path: Path) -> None:
        table = json.loads(path.read_text(encoding="utf-8"))
        sets: dict[tuple[str, ...], int] = {(): 0}
        syllables: dict[str, str] = {}
        self._index = array("H", bytes(2 * (max(map(int, table)) - self.FIRST + 1)))
        for char, extra in self.PHRASE_ONLY.items():
            table[str(ord(char))] += "," + extra
        for code, value in table.items():
            found: list[str] = []
            for reading in value.split(","):
                syllable = syllables.setdefault(reading, toneless(reading))
                if syllable and syllable not in found:
                    found.append(syllable)
            self._index[int(code) - self.FIRST] = sets.setdefault(tuple(found), len(sets))
        self._sets = tuple(sets)

    def __call__(self, char: str) -> tuple[str, ...]:
        """The toneless readings of ``char``, () for a character without any."""
        offset = ord(char) - self.FIRST
        if 0 <= offset < len(self._index):
            return self._sets[self._index[offset]]
        return ()


def load_phrases(path: Path) -> dict[str, list[list[str]]]:
    """The phrase table of ``path`` with every distinct inner list and reading stored once.

    The file is pretty-printed JSON, one token a line (``"一丁点儿": [``, ``[``, ``"yī"``,
    ``],``); anything else is refused rather than guessed at."""
    strings: dict[str, str] = {}
    inner: dict[tuple[str, ...], list[str]] = {}
    table: dict[str, list[list[str]]] = {}
    key = ""
    readings: list[list[str]] = []
    group: list[str] = []
    depth = 0  # 1: inside a phrase's list, 2: inside one of its inner lists
    with path.open(encoding="utf-8") as lines:
        for raw in lines:
            line = raw.strip().rstrip(",")
            if depth == 2 and line.startswith('"'):
                group.append(strings.setdefault(line[1:-1], line[1:-1]))
            elif depth == 1 and line == "[":
                depth, group = 2, []
            elif depth == 2 and line == "]":
                shared = inner.setdefault(tuple(group), group)
                readings.append(shared)
                depth = 1
            elif depth == 1 and line == "]":
                table[key] = readings
                depth = 0
            elif depth == 0 and line.endswith('": ['):
                key, readings, depth = line[1:-4], [], 1
            elif depth == 0 and line in ("{", "}", ""):
                continue
            else:
                raise ValueError(f"{path.name}: unexpected line {raw!r}")
    return table


def install() -> None:
    """Make pypinyin use the compact table (before its first import; otherwise a no-op)."""
    if "pypinyin" in sys.modules or "pypinyin.phrases_dict" in sys.modules:
        return
    # pypinyin copies both tables so that ``load_phrases_dict`` can change its copy; we never
    # change them, and this is pypinyin's own switch for that case (``pypinyin/constants.py``:
    # "无自定义拼音库的情况 … 以减少内存使用").
    os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "true")
    module = types.ModuleType("pypinyin.phrases_dict")
    module.phrases_dict = load_phrases(phrases_path())  # type: ignore[attr-defined]
    sys.modules["pypinyin.phrases_dict"] = module
