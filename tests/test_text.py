"""harvester.text: the comparison keys every stage uses."""

from __future__ import annotations

import pytest

from harvester.text import fold, name_key, normalize_space


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Plain ASCII Title", "plain ascii title"),
        ("Élégant café à Noël", "elegant cafe a noel"),
        ("Straße", "strasse"),  # casefold, not lower
        ("ﬁnance Ｆｕｌｌ", "finance full"),  # compatibility forms (NFKD)
        ("São Paulo – Zürich", "sao paulo – zurich"),  # the dash is not a mark: kept
        ("データ が", "テータ か"),  # kana voicing marks are combining marks too
        ("Москва́", "москва"),
        ("", ""),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


def test_name_key_drops_article_and_punctuation() -> None:
    assert name_key("Le Registre") == name_key("registre") == "registre"
    assert name_key("The Register®") == "register"


def test_normalize_space() -> None:
    assert normalize_space("  a\u00a0\n b\t") == "a b"
    assert normalize_space(None) == ""
