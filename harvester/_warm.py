"""Imported by the extraction forkserver: every worker forked from it starts warm
(modules imported, rule packs compiled, outlet registry loaded, language model read)."""

from .extract import detect_language
from .outlets import default_registry
from .pipeline import Knowledge  # noqa: F401  (imports trafilatura, selectolax)
from .rules import load_rules

load_rules()
default_registry()
detect_language("warm up the language model, which is read on first use", None)
