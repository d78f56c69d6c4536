"""Organisation names: one normaliser for every script the registry's entities use.

``parse(text)`` gives three token sequences of a company name:

* ``full``: NFKC, case-folded, punctuation to spaces, dotted abbreviations joined ("S.A.U." ->
  ``sau``), legal-form words kept but spelled one way (``limited`` -> ``ltd``); for look-alike
  negatives, which may hinge on the legal form ("Teltronic AG" is not "Teltronic S.A.U.");
* ``bare``: ``full`` without legal forms and without parenthesised qualifiers; two names with
  the same bare tokens name the same organisation when their legal forms agree;
* ``core``: ``bare`` without business words ("Technologies", "Device", "Software", 技术, 科技 …)
  and place names ("Hangzhou", "(Dongguan)", 北京 …): the distinctive part, e.g. ``huawei`` for
  "Huawei Software Technologies Co., Ltd." and 海康威视 for 杭州海康威视数字技术股份有限公司.

Chinese and Japanese are written without spaces: legal forms, places and business words are
cut from the ends of such runs.  Russian legal forms (АО, ЗАО, ООО …) and business words
(Лаборатория) are words like any other.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

__all__ = ["OrgName", "parse", "compatible", "COMMON_WORDS", "is_cjk"]

# Legal forms, spelled one way.  Several spellings of one form map to one token (ZAO, OAO, JSC
# and AO are one: Russian joint-stock companies were re-registered as AO in 2014).
_LEGAL_SPELLINGS: dict[str, str] = {
    "co": "co", "company": "co", "cos": "co",
    "ltd": "ltd", "limited": "ltd", "ltda": "ltd",
    "inc": "inc", "incorporated": "inc",
    "corp": "corp", "corporation": "corp",
    "llc": "llc", "ооо": "llc",
    "plc": "plc", "gmbh": "gmbh", "mbh": "gmbh", "ag": "ag", "kg": "kg", "se": "se", "ug": "ug",
    "sa": "sa", "sau": "sau", "sas": "sas", "sarl": "sarl", "sl": "sl", "slu": "slu", "spa": "spa",
    "srl": "srl", "bv": "bv", "nv": "nv", "ab": "ab", "oy": "oy", "as": "as", "asa": "as", "aps": "aps",
    "kft": "kft", "sro": "sro", "zrt": "zrt", "kk": "kk", "gk": "gk", "lp": "lp", "llp": "llp",
    "pte": "pte", "pty": "pty", "pvt": "pvt", "private": "pvt", "bhd": "bhd", "sdn": "sdn",
    "fz": "fz", "fze": "fz", "fzco": "fz", "fzllc": "fz",
    "ao": "ao", "zao": "ao", "oao": "ao", "pao": "ao", "jsc": "ao", "cjsc": "ao", "ojsc": "ao", "pjsc": "ao",
    "ао": "ao", "зао": "ao", "оао": "ao", "пао": "ao", "нао": "ao",
    "株式会社": "kk", "有限会社": "gk",
}
# Chinese legal-form endings, longest first
_CJK_LEGAL = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "控股集团", "集团", "公司", "株式会社")

# Words that describe a business rather than name it (core = name without them).
_BUSINESS = frozenset("""
    technology technologies tech technical digital software device devices terminal terminals
    communication communications telecom telecommunication telecommunications network networks networking
    electronic electronics electric international intl group holding holdings system systems solution
    solutions service services information info science sciences product products broadband intelligent
    intelligence smart cloud security lab labs laboratory laboratories enterprise enterprises industrial
    industries industry manufacturing manufacturer trading import export development mobile computer
    computers computing media internet online global worldwide research innovation innovations
    engineering robotics automation division branch subsidiary office representative the of and a an
    by for mobilfunk equipment instruments
    лаборатория лаборатории технологии
""".split())
# Places that qualify a company name ("Hangzhou Hikvision", "Huawei Device (Dongguan)").
_PLACES = frozenset("""
    hangzhou zhejiang beijing shenzhen shanghai guangzhou guangdong dongguan chengdu wuhan nanjing
    suzhou tianjin chongqing xian jiangsu sz bj sh hk hong kong china prc chinese singapore sg usa us
    america americas uk gb india europe eu middle east dubai japan korea russia moscow canada
    australia germany deutschland france italy italia spain espana mexico brazil brasil netherlands
""".split())
_CJK_PLACES = ("北京", "杭州", "深圳", "上海", "浙江", "广州", "广东", "东莞", "成都", "武汉", "南京", "中国", "香港")
_CJK_BUSINESS = ("科技", "技术", "数字", "通讯", "通信", "网络", "软件", "电子", "信息", "智能", "终端", "设备",
                 "股份", "控股", "实业", "产业", "研究院", "系统")

# Cores that are ordinary words or common names: never a mark on their own (exact names still match).
COMMON_WORDS = frozenset("""
    lark spring honor sinclair pacific comnet positive zhongxing hyt huacheng pico lemon ascend trae
    vision smart group ib lab labs china mobile telecom unicom
""".split())

_DOTTED = re.compile(r"(?<![^\W_])(?:[^\W\d_]\.){2,}(?![^\W_])")  # S.A.U. / B.V. / L.L.C.
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
MAX_CHARS = 1024  # longer values (banners) are read in full by other kinds; names are short


@cache
def _paren() -> re.Pattern[str]:
    # compiled when first needed: the fullwidth brackets make re map every code point (about 1 ms)
    return re.compile(r"[(（\[][^()（）\[\]]*[)）\]]")


@cache
def _no_space() -> re.Pattern[str]:
    # compiled when first needed (never for ASCII text): re expands ranges of tens of thousands of
    # characters one by one, which takes milliseconds
    return re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def is_cjk(token: str) -> bool:
    return not token.isascii() and bool(_no_space().search(token))  # the ranges hold no ASCII character


@dataclass(frozen=True, slots=True)
class OrgName:
    full: tuple[str, ...]
    bare: tuple[str, ...]
    core: tuple[str, ...]
    legal: frozenset[str]

    @property
    def bare_key(self) -> str:
        return " ".join(self.bare)

    @property
    def core_key(self) -> str:
        return " ".join(self.core)


def _tokens(text: str) -> list[str]:
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)
    return _PUNCT.sub(" ", text).split()


def _cjk_split(token: str) -> tuple[str, str | None]:
    """(the run without its legal-form ending, that legal form's token or None)."""
    for suffix in _CJK_LEGAL:
        if token.endswith(suffix) and len(token) > len(suffix):
            return token[: -len(suffix)], "kk" if suffix == "株式会社" else "co"
    return token, None


def _cjk_core(token: str) -> str:
    t = token
    changed = True
    while changed and t:
        changed = False
        for p in _CJK_PLACES:
            if t.startswith(p) and len(t) > len(p):
                t, changed = t[len(p):], True
        for b in _CJK_BUSINESS:
            if t.endswith(b) and len(t) > len(b):
                t, changed = t[: -len(b)], True
    return t


@lru_cache(maxsize=65536)  # inventories repeat the same publishers and names
def parse(text: str) -> OrgName:
    t = text[:MAX_CHARS]
    if not t.isascii():
        t = unicodedata.normalize("NFKC", t)
    t = t.casefold()
    outside = _paren().sub(" ", t) if "(" in t or "（" in t or "[" in t else t  # no opening bracket: no match
    full_tokens = _tokens(t)
    legal: set[str] = set()
    full: list[str] = []
    for tok in full_tokens:
        form = _LEGAL_SPELLINGS.get(tok)
        if form is not None:
            full.append(form)
            legal.add(form)
        elif is_cjk(tok):
            run, lf = _cjk_split(tok)
            full.append(run)
            if lf:
                full.append(lf)
                legal.add(lf)
        else:
            full.append(tok)
    bare: list[str] = []
    core: list[str] = []
    for tok in _tokens(outside):
        if tok in _LEGAL_SPELLINGS:
            continue
        if is_cjk(tok):
            run, _ = _cjk_split(tok)
            bare.append(run)
            c = _cjk_core(run)
            if c:
                core.append(c)
            continue
        bare.append(tok)
        if tok not in _BUSINESS and tok not in _PLACES and not tok.isdigit():
            core.append(tok)
    # two-word places ("hong kong", "middle east") are dropped word by word above
    return OrgName(tuple(full), tuple(bare), tuple(core), frozenset(legal))


_GENERIC_FORMS = frozenset({"co", "ltd", "corp", "plc"})


def compatible(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two names with the same bare words can name one company, by their legal forms.

    True unless both carry legal forms, share none, and one of them is jurisdiction-specific:
    "LARK Technologies, Inc" is not "Lark Technologies Pte. Ltd.", "Teltronic AG" not
    "Teltronic S.A.U."; "Huawei Technologies Company" is "HUAWEI TECHNOLOGIES CO.,LTD", "Sepura plc"
    is "Sepura Limited" and "Kaspersky Lab ZAO" is "AO Kaspersky Lab" (both spelled ``ao``).
    """
    if not a or not b or a & b:
        return True
    return a <= _GENERIC_FORMS and b <= _GENERIC_FORMS
