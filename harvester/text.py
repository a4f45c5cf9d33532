"""Small text helpers shared by every stage."""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata

_WS = re.compile(r"\s+")
# NUL and C0 controls except \t \n \r, DEL, C1 controls, lone surrogates, non-characters
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f\ud800-\udfff\ufffe\uffff]")
_ARTICLES = (
    "the", "le", "la", "les", "l'", "l’", "der", "die", "das", "den", "el", "los", "las",
    "il", "lo", "gli", "i", "o", "os", "a", "as", "het", "de", "een", "un", "une", "ein", "eine",
)  # fmt: skip
_ARTICLE_RE = re.compile(r"^(?:" + "|".join(re.escape(a) for a in _ARTICLES if a[-1] not in "'’") + r")\s+|^l['’]")


def sanitize(text: str) -> str:
    """Remove characters that break JSON consumers or never belong in text."""
    return _BAD_CHARS.sub("", text)


def normalize_space(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def fold(text: str) -> str:
    """Casefold and strip accents: the key for loose comparisons."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    if decomposed.isascii():  # most text: nothing to strip (and 100x cheaper than the filter)
        return decomposed
    return "".join(itertools.filterfalse(unicodedata.combining, decomposed))


def name_key(name: str) -> str:
    """Outlet-name matching key: casefolded, accent-free, no leading article or punctuation."""
    key = normalize_space(re.sub(r"[^\w\s'’.-]", " ", fold(name)))
    key = _ARTICLE_RE.sub("", key, count=1)
    return normalize_space(key.strip(" .-'’"))


def text_key(text: str) -> str:
    """Normalised text for hashing: NFKC, casefolded, whitespace collapsed."""
    return normalize_space(unicodedata.normalize("NFKC", text).casefold())


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
