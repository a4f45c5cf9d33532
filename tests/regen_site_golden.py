"""Regenerate fixtures/site/expected/ (the golden records of tests/test_poll.py).

    python tests/regen_site_golden.py            # show what would change (a diff), write nothing
    python tests/regen_site_golden.py --write    # write it, after you have read that diff

Run it only after reviewing the diff: the golden files are the reviewed answer, not
whatever the pipeline happens to print today. Read every changed record as an editor
would: clean text (no tagline, footer, kicker or share-bar left), the right title,
language, date and authors, and the right source (name, domain, URL) and aggregator.

It polls the fixture site once (served on 127.0.0.1 by harvester.testserver), exactly as
``test_first_poll_writes_golden_records`` does, and writes each record in its port-free
canonical form (see tests/fixture_site.py) as expected/<id>.json. Files for records that
are no longer produced are removed.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import tempfile
from pathlib import Path


def produce() -> dict[str, dict]:
    from fixture_site import SITE, canonical, read_records

    from harvester.config import load_config
    from harvester.demo import write_site_config
    from harvester.lock import run_lock
    from harvester.runner import poll
    from harvester.testserver import FixtureServer

    with tempfile.TemporaryDirectory() as tmp, FixtureServer(SITE) as server:
        out = Path(tmp) / "out"
        cfg = write_site_config(Path(tmp) / "config.toml", server.base_url, output_dir=out, state_path=Path(tmp) / "state.db")
        config = load_config(cfg, must_exist=True)
        with run_lock(config.settings.state_path):
            code, summary = poll(config, out_dir=out)
        print(f"{summary.line('poll')} (exit {code})", file=sys.stderr)
        for failure in summary.failures:
            print(f"  failed: {failure}", file=sys.stderr)
        records = [canonical(r, server.base_url) for r in read_records(out).values()]
    return {r["id"]: r for r in records}


def dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the new golden files")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fixture_site import EXPECTED

    new = produce()
    old = {p.stem: p.read_text(encoding="utf-8") for p in EXPECTED.glob("*.json")}
    changed = 0
    for rid in sorted(set(old) | set(new)):
        before = old.get(rid, "")
        after = dumps(new[rid]) if rid in new else ""
        if before != after:
            changed += 1
            sys.stdout.writelines(difflib.unified_diff(
                before.splitlines(True), after.splitlines(True),
                f"expected/{rid}.json" if before else "/dev/null",
                f"expected/{rid}.json" if after else "/dev/null",
            ))  # fmt: skip
    print(f"{changed} golden file(s) differ; {len(new)} records produced", file=sys.stderr)
    if args.write and changed:
        EXPECTED.mkdir(parents=True, exist_ok=True)
        for rid in set(old) - set(new):
            (EXPECTED / f"{rid}.json").unlink()
        for rid, record in new.items():
            (EXPECTED / f"{rid}.json").write_text(dumps(record), encoding="utf-8")
        print(f"wrote {EXPECTED}", file=sys.stderr)
    elif changed:
        print("nothing written: review the diff above, then rerun with --write", file=sys.stderr)
    return 0


if __name__ == "__main__":  # the extraction forkserver re-imports this module: keep the guard
    sys.exit(main())
