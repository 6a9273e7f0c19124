"""pypinyin's phrase table loaded compactly (``catalog.search.pinyin_data``) is the very table
pypinyin would load itself, value for value, and the pinyin the index and highlights use are
unchanged."""

from __future__ import annotations

import json
import subprocess
import sys

from xinyue.catalog.search import pinyin_data


def test_the_compact_table_equals_pypinyins_own():
    path = pinyin_data.phrases_path()
    compact = pinyin_data.load_phrases(path)
    assert compact == json.loads(path.read_text(encoding="utf-8"))
    assert len(compact) > 40_000
    # Shared: far fewer distinct inner lists than phrases.
    assert len({id(group) for readings in compact.values() for group in readings}) < 5_000


def test_pypinyin_reads_the_same_words_with_the_compact_table():
    words = ["重庆", "银行", "长大成人", "东野圭吾", "钱锺书", "解忧杂货店", "还书", "行走江湖"]
    code = (
        "import json, sys\n"
        "if sys.argv[1] == 'compact':\n"
        "    from xinyue.catalog.search import pinyin_data\n"
        "    pinyin_data.install()\n"
        "from pypinyin import Style, lazy_pinyin, pinyin\n"
        f"words = {words!r}\n"
        "print(json.dumps([[lazy_pinyin(w, style=Style.NORMAL), pinyin(w, heteronym=True)]"
        " for w in words]))\n"
    )
    outputs = {
        mode: subprocess.run(
            [sys.executable, "-c", code, mode], capture_output=True, text=True, check=True
        ).stdout
        for mode in ("compact", "pypinyin")
    }
    assert outputs["compact"] == outputs["pypinyin"]
    assert json.loads(outputs["compact"])[0][0] == ["chong", "qing"]


def test_highlight_readings_hold_every_reading_the_index_may_give_a_character():
    """Highlighting reads pypinyin's single-character table alone; the index reads characters
    through phrases too. Every reading either table gives a character, written as the index
    writes it (``Style.NORMAL``, then folded), must be one of the character's readings here, or
    a query that matched would go unmarked."""
    from xinyue.catalog.search import text

    text._lazy_pinyin()  # pypinyin with the compact table, as the index loads it
    from pypinyin import Style
    from pypinyin.style import convert

    readings = pinyin_data.Readings(pinyin_data.readings_path())
    single = json.loads(pinyin_data.readings_path().read_text(encoding="utf-8"))
    phrases = pinyin_data.load_phrases(pinyin_data.phrases_path())
    pairs = {(chr(int(code)), r) for code, value in single.items() for r in value.split(",")}
    pairs |= {
        (char, r)
        for phrase, groups in phrases.items()
        for char, group in zip(phrase, groups, strict=False)
        for r in group
    }
    as_indexed = {r: text.fold(convert(r, Style.NORMAL, strict=True)) for _, r in pairs}
    missing = sorted((char, r) for char, r in pairs if as_indexed[r] not in readings(char))
    assert missing == []
    assert len(pairs) > 45_000
    # The phrase-only readings are still needed (the single-character table lacks each).
    for char, extra in readings.PHRASE_ONLY.items():
        assert extra not in {as_indexed.get(r) for r in single[str(ord(char))].split(",")}
    assert readings("重") == ("zhong", "chong", "tong")
    assert readings("绿") == ("lv", "lu")
    assert readings("a") == readings("😀") == ()
