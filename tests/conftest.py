import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
PAGES = FIXTURES / "pages"


def page_specs() -> list[Path]:
    return sorted(PAGES.glob("*.json"))


def load_spec(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def page_html(spec_path: Path) -> str:
    from harvester.fetch import decode_html

    return decode_html(spec_path.with_suffix(".html").read_bytes(), None)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
