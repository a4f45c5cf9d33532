"""harvester: clean aggregator copies of news articles and recover their source.

The library API (the CLI is a thin layer over it)::

    from harvester import clean_html
    record = clean_html(html, "https://platoblockchain.com/fr/...")
    record["text"], record["source"]["name"], record["warnings"]

    from harvester import Page, Knowledge, process      # stage by stage
    from harvester import load_config, poll             # the poller
    from harvester import record_schema, validate_record
"""

from __future__ import annotations

__version__ = "0.1.0"

_EXPORTS = {
    "clean_html": "pipeline",
    "process": "pipeline",
    "Knowledge": "pipeline",
    "Page": "models",
    "FeedEntry": "models",
    "load_config": "config",
    "Config": "config",
    "Settings": "config",
    "poll": "runner",
    "fetch_urls": "runner",
    "validate_record": "record",
    "HarvesterError": "errors",
}
__all__ = [*_EXPORTS, "record_schema", "__version__"]


def record_schema() -> dict:
    """The JSON Schema every record is valid against."""
    from .record import schema

    return schema()


def __getattr__(name: str):
    # lazy: `import harvester` stays cheap; trafilatura loads on first use
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'harvester' has no attribute {name!r}")
