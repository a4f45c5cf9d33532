"""The article-extraction-benchmark data set and its metric, shared by the bench scripts.

Data: scrapinghub/article-extraction-benchmark (MIT, "Copyright (c) 2020 Scrapinghub"),
read in place from ``../shared/bench/article-extraction-benchmark`` (never copied into
this repository): ``html/<id>.html.gz`` (gzip, UTF-8) and ``ground-truth.json``
(``{id: {"articleBody", "url"}}``).

Metric: a re-implementation of upstream's ``evaluate.py`` (checked against the file at
commit 4a3bc979f76c0df73cb95fe272e2fc1b96f9f010, the commit the data was exported
from). The rules, including the edge cases, are upstream's:

* tokens are ``re.findall(r"\\w+", text)`` (Unicode ``\\w``); ``None`` is the empty text;
* shingles are the overlapping 4-token n-grams, counted as a multiset. A text of 1-3
  tokens has exactly one shingle, made of all its tokens; an empty text has none;
* per document: TP = shared shingles, FP = predicted only, FN = true only (multiset
  counts), then divided by TP + FP + FN so every document weighs the same;
* per-document precision is 1 when FP = FN = 0, else TP / (TP + FP); recall likewise
  TP / (TP + FN). Precision is averaged only over documents with TP + FP > 0 - an
  **empty prediction is left out of the precision average** and scores recall 0 -
  and recall only over documents with TP + FN > 0 (a non-empty ground truth);
* F1 is the harmonic mean of the two averages (not an average of per-document F1s);
* accuracy is the share of documents whose token sequences are exactly equal;
* the "±" figures are the standard deviation of each figure over 1000 bootstrap
  resamples of the documents (upstream draws with the unseeded global ``random``; we
  use ``random.Random(seed)`` so that two runs print the same numbers).
"""

from __future__ import annotations

import gzip
import json
import math
import platform
import random
import re
import statistics
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "bench" / "article-extraction-benchmark"
QUICK_PAGES = 30
SHINGLE = 4
BOOTSTRAP_SEED = 20200101

_TOKEN = re.compile(r"\w+")

Counts = tuple[float, float, float]  # TP, FP, FN, normalised to sum 1 (or all 0)


# --- data ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BenchPage:
    id: str
    url: str
    truth: str  # articleBody
    html_path: Path

    def html(self) -> str:
        with gzip.open(self.html_path, "rt", encoding="utf-8") as f:
            return f.read()


def _fail(message: str) -> NoReturn:
    print(f"bench: {message}", file=sys.stderr)
    raise SystemExit(2)  # an input error, as harvester's own commands exit


def load_pages(data_dir: Path, quick: bool = False) -> list[BenchPage]:
    """The pages sorted by id (the first QUICK_PAGES of them with ``quick``)."""
    truth_path = data_dir / "ground-truth.json"
    if not truth_path.is_file():
        _fail(f"no ground-truth.json in {data_dir} (use --data DIR)")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    pages = [
        BenchPage(id=key, url=item.get("url") or "", truth=item.get("articleBody") or "",
                  html_path=data_dir / "html" / f"{key}.html.gz")
        for key, item in sorted(truth.items())
    ]  # fmt: skip
    missing = [p.html_path.name for p in pages if not p.html_path.is_file()]
    if missing:
        _fail(f"{len(missing)} html files missing in {data_dir / 'html'}, e.g. {missing[0]}")
    return pages[:QUICK_PAGES] if quick else pages


# --- metric ----------------------------------------------------------------------------


def tokenize(text: str | None) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(text: str | None, n: int = SHINGLE) -> Counter:
    tokens = tokenize(text)
    if not tokens:
        return Counter()
    if len(tokens) < n:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def match_counts(true: str | None, pred: str | None) -> Counts:
    """Normalised (TP, FP, FN) of one document's shingles."""
    want, got = shingles(true), shingles(pred)
    tp = float(sum((want & got).values()))
    fp = float(sum((got - want).values()))
    fn = float(sum((want - got).values()))
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def doc_precision(c: Counts) -> float:
    tp, fp, fn = c
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def doc_recall(c: Counts) -> float:
    tp, fp, fn = c
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


def doc_f1(c: Counts) -> float:
    """One document's F1 (for ranking pages only; the benchmark F1 is not an average of these)."""
    p, r = doc_precision(c), doc_recall(c)
    return 2 * p * r / (p + r) if p + r else 0.0


def exact(true: str | None, pred: str | None) -> float:
    return float(tokenize(true) == tokenize(pred))


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def aggregate(counts: Sequence[Counts]) -> dict[str, float]:
    precision = _mean([doc_precision(c) for c in counts if c[0] + c[1] > 0])
    recall = _mean([doc_recall(c) for c in counts if c[0] + c[2] > 0])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else math.nan
    return {"f1": f1, "precision": precision, "recall": recall}


def evaluate(truths: Sequence[str], preds: Sequence[str | None], n_bootstrap: int = 1000,
             seed: int = BOOTSTRAP_SEED) -> dict:  # fmt: skip
    """Benchmark figures for one tool: f1, precision, recall, accuracy and their *_std."""
    counts = [match_counts(t, p) for t, p in zip(truths, preds, strict=True)]
    accuracies = [exact(t, p) for t, p in zip(truths, preds, strict=True)]
    out: dict = aggregate(counts)
    out["accuracy"] = _mean(accuracies)
    rng = random.Random(seed)
    n = len(counts)
    samples: dict[str, list[float]] = {}
    for _ in range(n_bootstrap):
        idx = [rng.randint(0, n - 1) for _ in range(n)]
        figures = aggregate([counts[i] for i in idx])
        figures["accuracy"] = _mean([accuracies[i] for i in idx])
        for key, value in figures.items():
            samples.setdefault(key, []).append(value)
    for key, values in samples.items():
        out[f"{key}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
    out["per_doc"] = counts
    return out


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks."""
    data = sorted(values)
    if not data:
        return math.nan
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def cpu_model() -> str:
    """The processor, as the bench scripts report the machine they ran on."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def proc_kib(pid: int, name: str, field: str) -> int:
    """A kB figure of /proc/PID/NAME (``proc_kib(pid, "status", "VmHWM")``,
    ``proc_kib(pid, "smaps_rollup", "Pss")``); 0 when the process is gone or has no such line."""
    try:
        with open(f"/proc/{pid}/{name}", "rb") as fh:
            for line in fh:
                if line.startswith(field.encode() + b":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0
