"""SQLite state: dedup decisions, feed bookkeeping, upgrades of older state files."""

from __future__ import annotations

import sqlite3

import pytest

from harvester.store import Store, simhash

BODY = (
    "Microsoft will spend 3.2 billion euros over the next two years to double the capacity of its AI and cloud "
    "data centres in Germany, the software giant said on Thursday, in a deal presented in Berlin by Brad Smith."
)


def record(rid: str, *, title="Microsoft invests in AI operations in Germany", text=BODY, language="en",
           source=("The Register", "theregister.com", None), published="2024-02-15T10:30:00Z") -> dict:  # fmt: skip
    name, domain, url = source
    return {"id": rid, "url": f"https://x.example/{rid}", "title": title, "text": text, "language": language,
            "published": published, "source": {"name": name, "domain": domain, "url": url}}  # fmt: skip


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "state.db")
    yield s
    s.close()


def add(store: Store, rec: dict) -> None:
    store.mark_done(feed_url="f", entry_id=rec["id"], link=rec["url"], record_id=rec["id"], urls=[rec["url"]],
                    record=rec, text_hash=simhash(rec["text"]))  # fmt: skip


def test_same_source_url_same_language_is_a_duplicate(store):
    add(store, record("a" * 32, source=("The Register", "theregister.com", "https://www.theregister.com/2024/02/15/x/")))
    copy = record("b" * 32, text="Entirely different words here.", source=("The Register", "theregister.com", "https://www.theregister.com/2024/02/15/x/?utm_source=rss"))
    assert store.find_duplicate(copy, simhash(copy["text"])) == "a" * 32


def test_translation_sharing_source_url_is_not_a_duplicate(store):
    add(store, record("a" * 32, source=("The Register", "theregister.com", "https://www.theregister.com/2024/02/15/x/")))
    french = record("b" * 32, language="fr", text="Microsoft va dépenser 3,2 milliards d'euros.",
                    source=("The Register", "theregister.com", "https://www.theregister.com/2024/02/15/x/"))  # fmt: skip
    assert store.find_duplicate(french, simhash(french["text"])) is None


def test_the_original_page_matches_a_copy_that_pointed_to_it(store):
    original_url = "https://www.theregister.com/2024/02/15/x/"
    add(store, record("a" * 32, text="Copy text that differs.", source=("The Register", "theregister.com", original_url)))
    original = record("b" * 32, source=("The Register", "theregister.com", original_url))
    original["url"] = original_url
    assert store.find_duplicate(original, simhash(original["text"])) == "a" * 32


def test_same_outlet_same_title_within_two_days(store):
    add(store, record("a" * 32, text="First wording of the story, as the aggregator left it."))
    again = record("b" * 32, text="Quite another wording of the same story.", published="2024-02-16T08:00:00Z")
    assert store.find_duplicate(again, simhash(again["text"])) == "a" * 32
    later = record("c" * 32, text="A story a week later that reuses the headline.", published="2024-02-25T08:00:00Z")
    assert store.find_duplicate(later, simhash(later["text"])) is None


def test_short_recurring_titles_are_not_used(store):
    add(store, record("a" * 32, title="Morning briefing", text="Today: rates, oil and a strike at the port."))
    other = record("b" * 32, title="Morning briefing", text="Today: elections, snow and a new stadium.")
    assert store.find_duplicate(other, simhash(other["text"])) is None


def test_near_duplicate_text_in_the_same_language(store):
    add(store, record("a" * 32, title="One title of at least four words", source=(None, None, None)))
    copy = record("b" * 32, title="Another headline entirely for the copy", text=BODY + " ®", source=(None, None, None))
    assert store.find_duplicate(copy, simhash(copy["text"])) == "a" * 32
    other = record("c" * 32, title="Another headline entirely for the copy", text="Nothing in common with the first story at all, not one phrase.", source=(None, None, None))
    assert store.find_duplicate(other, simhash(other["text"])) is None


def test_mark_done_is_one_transaction_and_maps_urls(store):
    rec = record("a" * 32)
    add(store, rec)
    assert store.entry_done("f", "a" * 32)
    assert store.record_for_url(rec["url"]) == "a" * 32
    assert store.has_record("a" * 32)


def test_feed_errors_count_up_and_success_resets(store):
    assert store.feed_failed("https://f.example/feed", now=1.0, kind="http_status", message="HTTP 500", next_due=61.0) == 1
    assert store.feed_failed("https://f.example/feed", now=61.0, kind="http_status", message="HTTP 500", next_due=181.0) == 2
    assert not store.is_due("https://f.example/feed", 100.0)
    store.feed_polled("https://f.example/feed", now=200.0, next_due=1100.0, status="ok", etag='"v1"', keep_validators=False)
    state = store.feed("https://f.example/feed")
    assert (state.error_count, state.status, state.etag, state.last_error) == (0, "ok", '"v1"', None)


def test_older_state_file_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE records (id TEXT PRIMARY KEY, url TEXT, source_url TEXT, language TEXT, simhash INTEGER,"
               " b0 INTEGER, b1 INTEGER, b2 INTEGER, b3 INTEGER, written_at REAL NOT NULL)")  # fmt: skip
    db.execute("INSERT INTO records (id, url, written_at) VALUES ('old', 'https://x.example/old', 1.0)")
    db.commit()
    db.close()
    store = Store(path)
    try:
        assert store.has_record("old")
        add(store, record("a" * 32))
        assert store.has_record("a" * 32)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", 16476032584258269876),
        ("one", 3815355558890182089),
        ("one two", 561697725256166493),
        ("The quick brown fox jumps over the lazy dog.", 8624727436966258293),
        ("Le registre : Microsoft a dépensé XNUMX milliards", 18414839206437563148),
    ],
)
def test_simhash_values_never_change(text, value):
    """Simhashes are stored in the state file: a faster implementation must give the same
    values, or near-duplicates of records saved by an older version go unnoticed."""
    assert simhash(text) == value
