"""Text normalisation and tokens for the catalog's search index (DESIGN §7).

Everything that decides *which tokens* a title and a query produce lives here, so that both
database engines (SQLite FTS5 and PostgreSQL tsvector) index and query exactly the same tokens:

* ``words``  — application-side segmentation with ``rjieba`` in search mode for runs of Chinese
  characters, lowercase words for Latin letters and digits;
* ``grams``  — the short-word fallback: the overlapping character bigrams of each Chinese run
  (a run of one character is kept as a unigram), queried as a phrase, so that any 2-character
  word or name inside a title or author name is found even where the segmenter cut elsewhere;
* ``pinyin`` — full pinyin and initials (``pypinyin``) of each Chinese run and of each word.

Before any of these, ``fold_han`` writes traditional and variant Han characters in one simplified
form (OpenCC's ``t2s`` conversion, then ``VARIANTS``), on the title's side and on the query's, so
that 圍城 finds 围城 and 钱钟书 finds 钱锺书. Changing it changes the tokens: the index must be
rebuilt (a data migration, like ``catalog/migrations/0007_fold_han_reindex.py``).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from types import ModuleType

import opencc

from xinyue.catalog.search import pinyin_data

# Scripts written without spaces: segmented and bigrammed. Han (BMP, compatibility, extension
# blocks), kana and hangul syllables.
_CJK_RANGES = (
    (0x3041, 0x3096),
    (0x309D, 0x309F),
    (0x30A1, 0x30FA),
    (0x30FC, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2EBEF),
    (0x30000, 0x3134F),
)
_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F))

_CJK_CLASS = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _CJK_RANGES)
_HAN_CLASS = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _HAN_RANGES)
_CJK_CHAR = re.compile(f"[{_CJK_CLASS}]")
_HAN_CHAR = re.compile(f"[{_HAN_CLASS}]")
_RUN = re.compile(f"[{_CJK_CLASS}]+|[a-z0-9]+")
_LATIN = re.compile("[a-z0-9]+")
_SPACE = re.compile(r"\s+")


def is_cjk(run: str) -> bool:
    return _CJK_CHAR.match(run) is not None


def is_han(char: str) -> bool:
    return _HAN_CHAR.match(char) is not None


def has_han(value: str) -> bool:
    return _HAN_CHAR.search(value) is not None


def fold(text: str) -> str:
    """NFKC (full-width → half-width), case-folded, accents removed from Latin letters."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    if decomposed == text:
        return text
    # Drop combining marks of Latin letters only (kana voicing marks must stay).
    out = []
    for char in decomposed:
        if unicodedata.combining(char) and out and out[-1].isascii():
            continue
        out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


# Variant characters that OpenCC's t2s keeps because each is also a standard simplified character
# (锺 is the simplified form of 鍾, used in names: 钱锺书) or an old print form it does not map;
# a reader types the common form. Small on purpose: only pairs where the two spellings name the
# same thing in titles and names.
VARIANTS = str.maketrans(
    {
        "锺": "钟",  # 钱锺书 / 钱钟书; t2s maps 鍾 to 钟 alone but to 锺 in 錢鍾書
        "衞": "卫",  # 衛 → 卫 in t2s, the variant 衞 is kept
        "淸": "清",
        "靑": "青",
        "戸": "户",
        "凃": "涂",
        "竝": "并",
    }
)
_VARIANT_CHAR = re.compile("[" + "".join(chr(c) for c in VARIANTS) + "]")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def fold_han(text: str) -> str:
    """Traditional and variant Han characters in one simplified form (index and query alike).

    OpenCC converts by phrase (錢鍾書 → 钱锺书, 乾隆 stays), then ``VARIANTS`` maps single
    characters."""
    if text.isascii():
        return text
    try:
        converted = _t2s().convert(text)
    except UnicodeEncodeError:  # OpenCC takes UTF-8: drop lone surrogates (never Han)
        converted = _t2s().convert(text.encode("utf-8", "ignore").decode("utf-8"))
    if _VARIANT_CHAR.search(converted):
        converted = converted.translate(VARIANTS)
    return converted


@lru_cache(maxsize=20_000)
def fold_han_char(char: str) -> str:
    """``fold_han`` of one character (for highlighting, position by position)."""
    folded = fold_han(char)
    return folded if len(folded) == 1 else char


def normalize_query(text: str, *, limit: int = 100) -> str:
    """The query as it is recorded and shown: folded, spaces collapsed, control characters and
    lone surrogates dropped, at most ``limit`` characters."""
    folded = _SPACE.sub(" ", fold(text or ""))
    clean = "".join(c for c in folded if c == " " or unicodedata.category(c)[0] != "C")
    return _SPACE.sub(" ", clean).strip()[:limit].strip()


def runs(text: str) -> list[str]:
    """Runs of CJK characters and runs of Latin letters/digits; everything else separates.
    Han characters are folded to one simplified form first (``fold_han``)."""
    return _RUN.findall(fold_han(fold(text)))


# The two large tables of this module are loaded by their first use, not by importing it (a web
# worker imports it with the search code): rjieba's dictionary (~33 MB a process) by the first
# Chinese run segmented, pypinyin with its phrase table (~27 MB) by the first pinyin token wanted
# (indexing). Highlighting a Latin query in Han text reads only pypinyin's single-character
# table (``readings``), so a web worker never loads the phrase table. Home, title and bookshelf
# pages and processes that never search (kiosks, most task workers) load neither.
_LOADING = threading.Lock()


@lru_cache(maxsize=1)
def _rjieba() -> ModuleType:
    """rjieba, imported by the first segmentation (importing it builds its dictionary)."""
    with _LOADING:
        import rjieba

        return rjieba


@lru_cache(maxsize=1)
def _lazy_pinyin() -> Callable[[str], Sequence[str]]:
    """pypinyin's ``lazy_pinyin`` (toneless, "" for a character it cannot read), imported by
    the first pinyin wanted, with its phrase table loaded compactly first (``pinyin_data``)."""
    with _LOADING:  # the compact table must be in place before pypinyin's first import
        pinyin_data.install()
        from pypinyin import Style, lazy_pinyin

    def syllables_of(word: str) -> Sequence[str]:
        return lazy_pinyin(word, style=Style.NORMAL, errors=lambda chars: ["" for _ in chars])

    return syllables_of


@lru_cache(maxsize=1)
def _readings() -> pinyin_data.Readings:
    """Every reading of each Han character (pypinyin's single-character table alone, ~2 MB),
    loaded by the first highlight that needs it."""
    with _LOADING:
        return pinyin_data.Readings(pinyin_data.readings_path())


def readings(char: str) -> tuple[str, ...]:
    """All toneless readings of one Han character (重 → zhong, chong), () for none known.

    For highlighting: a Latin query is marked over characters it spells read any of their ways,
    without pypinyin's phrase table or segmentation (which decide the index's one reading)."""
    return _readings()(char)


@lru_cache(maxsize=200_000)
def _segment_for_search(run: str) -> tuple[str, ...]:
    return tuple(w for w in _rjieba().cut_for_search(run) if w.strip())


@lru_cache(maxsize=50_000)
def _segment(run: str) -> tuple[str, ...]:
    return tuple(w for w in _rjieba().cut(run) if w.strip())


def words(text: str) -> list[str]:
    """Index words: search-mode segmentation of CJK runs (every word and its sub-words)."""
    out: list[str] = []
    for run in runs(text):
        if is_cjk(run):
            out.extend(_segment_for_search(run))
        else:
            out.append(run)
    return out


def query_words(run: str) -> tuple[str, ...]:
    """Query words of one CJK run: precise-mode segmentation (the index holds search mode)."""
    return _segment(run)


def run_grams(run: str) -> list[str]:
    """Overlapping bigrams of a CJK run; a one-character run is its own unigram."""
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def grams(text: str) -> list[str]:
    """Index grams of a field: the bigrams of each CJK run, in order."""
    out: list[str] = []
    for run in runs(text):
        if is_cjk(run):
            out.extend(run_grams(run))
    return out


@lru_cache(maxsize=200_000)
def _word_pinyin(word: str) -> tuple[str, ...]:
    """One syllable per Han character of ``word`` (pypinyin picks readings by phrase)."""
    return tuple(s if s.isascii() else fold(s) for s in _lazy_pinyin()(word))


def syllables(run: str) -> list[str]:
    """Pinyin syllables of a Han run, one per character (non-Han characters give "")."""
    out: list[str] = []
    for word in _segment(run):
        out.extend(_word_pinyin(word))
    return out


def pinyin(text: str) -> list[str]:
    """Index pinyin of a field: for each Han run its full pinyin and its initials, and the full
    pinyin of each word of two or more characters."""
    out: list[str] = []
    for run in runs(text):
        if not is_cjk(run) or not any(is_han(c) for c in run):
            continue
        sylls = [s for s in syllables(run) if s]
        if not sylls:
            continue
        out.append("".join(sylls))
        if len(sylls) > 1:
            out.append("".join(s[0] for s in sylls))
            for word in _segment(run):
                if len(word) > 1 and len(word) < len(run):
                    full = "".join(_word_pinyin(word))
                    if full:
                        out.append(full)
    return out


def latin_tokens(text: str) -> list[str]:
    return _LATIN.findall(fold(text))


# Toneless pinyin syllables (all readings in pypinyin's dictionary, ü written v), to tell whether
# a Latin query term could be pinyin typed in full.
SYLLABLES = frozenset(
    # one string, split: 425 syllables as a list literal would take 425 lines
    (  # noqa: SIM905
        "a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong bu "
        "ca cai can cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi chong chou "
        "chu chua chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang "
        "dao de dei den deng di dia dian diao die din ding diu dong dou du duan dui dun duo e ei en "
        "eng er fa fan fang fei fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou "
        "gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hm hng hong hou hu "
        "hua huai huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue "
        "jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai "
        "lan lang lao le lei len leng li lia lian liang liao lie lin ling liu lo long lou lu luan lun "
        "luo lv lve m ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu n "
        "na nai nan nang nao ne nei nen neng ng ni nia nian niang niao nie nin ning niu nong nou nu "
        "nuan nun nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou "
        "pu qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri "
        "rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai shan shang shao "
        "she shei shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan "
        "sui sun suo ta tai tan tang tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun "
        "tuo wa wai wan wang wei wen weng wo wong wu xi xia xian xiang xiao xie xin xing xiong xiu xu "
        "xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao "
        "ze zei zen zeng zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai "
        "zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo"
    ).split()
)
_SYLLABLE_PREFIXES = frozenset(s[:i] for s in SYLLABLES for i in range(1, len(s) + 1))
MAX_INITIALS = 6  # a term this short may be the initials of a name or title ("dygw")


@lru_cache(maxsize=20_000)
def could_be_pinyin(term: str) -> bool:
    """Whether ``term`` may be pinyin: short enough to be initials, or a run of syllables
    whose last one may be unfinished ("dongye", "zahuod")."""
    if len(term) <= MAX_INITIALS:
        return True
    if not term.isalpha():
        return False
    ends = {0}
    for i in range(1, len(term) + 1):
        if any(term[j:i] in SYLLABLES for j in range(max(0, i - 6), i) if j in ends):
            ends.add(i)
    return len(term) in ends or any(term[j:] in _SYLLABLE_PREFIXES for j in ends)
