"""Attribution holds at 100% over the labelled fixtures (bench/attribution.py scores them).

tests/test_fixtures.py checks each page field by field; this test keeps the headline
figure - source name, domain and url right on every fixture that labels them - and its
failure message lists every miss at once.
"""

from __future__ import annotations

import importlib.util
import json

from conftest import PAGES, ROOT


def _bench_attribution():
    path = ROOT / "bench" / "attribution.py"
    spec = importlib.util.spec_from_file_location("bench_attribution", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_attribution_is_exact_on_every_fixture():
    scores = _bench_attribution().score_fixtures(PAGES)
    misses = "\n".join(
        f"{m['fixture']} {m['field']}: expected {json.dumps(m['expected'])}, got {json.dumps(m['got'])}"
        for m in scores["misses"]
    )
    for field in ("source.name", "source.domain", "source.url"):
        assert scores["total"][field] > 0, f"no fixture in {PAGES} labels {field}"
        assert scores["accuracy"][field] == 1.0, f"{field} accuracy {scores['accuracy'][field]:.3f}; misses:\n{misses}"
