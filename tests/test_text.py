"""harvester.text: the comparison keys every stage uses; and the language detector."""

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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The central bank raised interest rates again on Thursday, citing inflation.", "en"),
        ("LA BANQUE CENTRALE A DE NOUVEAU RELEVÉ SES TAUX D'INTÉRÊT JEUDI, EN INVOQUANT L'INFLATION.", "fr"),
        ("Die Zentralbank hat am Donnerstag die Zinsen erneut angehoben und verweist auf die Inflation.", "de"),
        ("中央銀行は木曜日、インフレを理由に再び金利を引き上げた。物価の上昇が続いている。", "ja"),
        ("Центральный банк в четверг снова повысил процентные ставки, сославшись на инфляцию.", "ru"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    from harvester.extract import detect_language

    assert detect_language(text, "xx") == expected  # the text wins over a (wrong) page hint


def test_detect_language_falls_back_to_the_page_hint_for_short_text() -> None:
    from harvester.extract import detect_language

    assert detect_language("Hi there", "pt-BR") == "pt"
    assert detect_language("Hi there", None) is None
    assert detect_language("line one\nline two\n" * 40, None) == "en"  # newlines are no error
