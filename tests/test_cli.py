"""The command line: bad input gets one clear line naming the input, and exit codes mean something."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from conftest import PAGES
from harvester.cli import COMMANDS, build_parser, main
from harvester.record import validate_record
from harvester.testserver import FixtureServer

REFERENCE = PAGES / "plato-fr-register-microsoft.html"
REFERENCE_URL = "https://platoblockchain.com/fr/microsoft-investit-3-2-milliards-deuros-dans-des-operations-dia-en-allemagne/"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_reference_page(capsys):
    code, out, err = run(capsys, "clean", str(REFERENCE), "--url", REFERENCE_URL)
    assert code == 0, err
    record = json.loads(out)
    assert validate_record(record) == []
    assert record["language"] == "fr"
    assert record["aggregator"]["name"] == "PlatoBlockchain"
    assert record["title"] == "Microsoft investit 3.2 milliards d'euros dans des opérations d'IA en Allemagne"
    assert [w["code"] for w in record["warnings"]] == ["masked_numbers"]
    assert record["warnings"][0]["count"] == 1
    text = record["text"]
    for spam in ("PlatoBlockchain Data Intelligence", "Recherche verticale", "Horodatage", "Plus de Le registre", "®"):
        assert spam not in text
    assert record["title"] not in text
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == len(set(paragraphs)), "a paragraph appears twice"
    assert record["source"]["name"] == "The Register"


def test_reference_page_defeats_bare_trafilatura():
    """The fixture is as hostile as the real page: trafilatura alone keeps every piece of spam."""
    import trafilatura

    text = trafilatura.extract(REFERENCE.read_text(encoding="utf-8"), include_comments=False)
    for spam in ("PlatoBlockchain Data Intelligence. Recherche verticale. Aï.", "Horodatage", "Plus de Le registre", "®"):
        assert spam in text


def test_clean_reads_stdin(capsys, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(REFERENCE.read_bytes())))
    code, out, _ = run(capsys, "clean", "-", "--url", REFERENCE_URL)
    assert code == 0
    assert json.loads(out)["aggregator"]["domain"] == "platoblockchain.com"


def _bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    (tmp / "empty.html").write_bytes(b"")
    (tmp / "binary.bin").write_bytes(bytes(range(256)) * 64)
    (tmp / "doc.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    (tmp / "huge.html").write_bytes(b"<html><body>" + b"<p>word word word</p>" * (50 * 1024 * 1024 // 21) + b"</body></html>")
    (tmp / "garbage.html").write_bytes(gzip.compress(b"x" * 100000) * 3)
    (tmp / "login.html").write_text(
        "<html><head><title>Sign in</title></head><body><form action='/login' method='post'>"
        "<label>Email <input name='email'></label><label>Password <input type='password' name='pw'></label>"
        "<button>Sign in</button></form></body></html>",
        encoding="utf-8",
    )
    return {
        "missing": (tmp / "nope.html", "no such file"),
        "empty": (tmp / "empty.html", "is empty"),
        "binary": (tmp / "binary.bin", "binary"),
        "pdf": (tmp / "doc.pdf", "is a PDF"),
        "huge": (tmp / "huge.html", "larger than"),
        "undecodable": (tmp / "garbage.html", "binary"),
        "no-article": (tmp / "login.html", "no article"),
    }


@pytest.mark.parametrize("case", ["missing", "empty", "binary", "pdf", "huge", "undecodable", "no-article"])
def test_clean_bad_input_is_one_line_exit_2(capsys, tmp_path, case):
    path, phrase = _bad_inputs(tmp_path)[case]
    code, out, err = run(capsys, "clean", str(path))
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert phrase in lines[0]
    assert path.name in lines[0]
    assert "Traceback" not in err


def test_bad_config_names_key_and_line(capsys, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[harvester]\noutput_dir = "out"\ninterval = "soon"\n', encoding="utf-8")
    code, _, err = run(capsys, "feeds", "-c", str(cfg))
    assert code == 2
    assert "interval" in err and "line 3" in err


def test_missing_explicit_config_is_an_error(capsys, tmp_path):
    code, _, err = run(capsys, "feeds", "-c", str(tmp_path / "absent.toml"))
    assert code == 2 and "absent.toml" in err


def test_every_command_has_help_with_an_example():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS)
    for name, p in sub.choices.items():
        text = p.format_help()
        assert "Example:" in text, f"{name} --help has no example"
        assert "-c CONFIG" in text, f"{name} does not take -c CONFIG"


@pytest.fixture
def local_site():
    """fixtures/pages served on 127.0.0.1 (a missing file is a 404)."""
    with FixtureServer(PAGES) as server:
        yield server.base_url


def _loopback_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[harvester]\nallow_private_addresses = true\nper_host_delay = 0\nrobots = \"ignore\"\n"
        "connect_timeout = 2\nread_timeout = 2\ndeadline = 5\nworkers = 1\n",
        encoding="utf-8",
    )
    return cfg


def test_fetch_reports_each_failure_and_goes_on(capsys, tmp_path, local_site):
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: connection refused
    cfg = _loopback_config(tmp_path)
    urls = [f"{local_site}/{REFERENCE.name}", f"{local_site}/missing.html", f"http://127.0.0.1:{dead_port}/x"]
    code, out, err = run(capsys, "fetch", "-c", str(cfg), *urls)
    assert code == 1
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 1 and records[0]["source"]["name"] == "The Register"
    assert "404" in err and "missing.html" in err
    assert "connect" in err and str(dead_port) in err
    assert "Traceback" not in err


def test_fetch_all_failed_exits_3_and_writes_nothing(capsys, tmp_path, local_site):
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "fetch", "-c", str(_loopback_config(tmp_path)), "-o", str(out_dir), f"{local_site}/missing.html")
    assert code == 3
    assert out == ""
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_fetch_refuses_loopback_by_default(capsys, local_site):
    code, out, err = run(capsys, "fetch", f"{local_site}/{REFERENCE.name}")
    assert code == 3
    assert "private" in err


def test_attribute_prints_only_the_attribution_with_its_evidence(capsys):
    code, out, err = run(capsys, "attribute", str(REFERENCE), "--url", REFERENCE_URL)
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {"url", "aggregator", "source"}
    assert result["aggregator"] == {"name": "PlatoBlockchain", "domain": "platoblockchain.com"}
    assert (result["source"]["name"], result["source"]["domain"]) == ("The Register", "theregister.com")
    assert [e["signal"] for e in result["source"]["evidence"]] == ["more_from_footer", "signoff"]


def test_discover_lists_the_feeds_a_page_advertises(capsys, tmp_path):
    site = PAGES.parent / "site"
    with FixtureServer(site) as server:
        page = server.url("/pages/theregister/2024/02/15/microsoft_germany_ai_datacenters/")
        code, out, err = run(capsys, "discover", "-c", str(_loopback_config(tmp_path)), page)
    assert code == 0, err
    lines = [line.split("\t") for line in out.splitlines()]
    assert lines and all(len(parts) == 3 for parts in lines)
    assert lines[0][0] == f"{server.base_url}/feeds/theregister.atom"
    assert lines[0][1] == "atom"


def test_long_running_commands_tune_malloc_and_one_off_ones_do_not(monkeypatch, capsys, tmp_path):
    """poll / fetch / demo get the glibc arena limit (harvester/memory.py); clean does not."""
    import harvester.memory

    calls: list[str] = []
    monkeypatch.setattr(harvester.memory, "tune_malloc", lambda: calls.append("tuned") or True)
    page = tmp_path / "page.html"
    page.write_text((PAGES / "plato-fr-register-microsoft.html").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["clean", str(page)]) == 0
    assert calls == []
    assert main(["fetch", "-q", "http://127.0.0.1:9/x"]) == 3  # refused (loopback not allowed)
    assert calls == ["tuned"]


def test_tune_malloc_applies_on_glibc():
    import platform
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "from harvester.memory import tune_malloc; print(tune_malloc())"],
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert out == ("True" if platform.libc_ver()[0] == "glibc" else "False")
