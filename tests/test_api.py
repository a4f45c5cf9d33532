"""The public Python API: its names, and records that match the shipped schema."""

import harvester


def test_exported_members():
    assert sorted(harvester.__all__) == sorted([
        "clean_html", "process", "Knowledge", "Page", "FeedEntry", "load_config", "Config",
        "Settings", "poll", "fetch_urls", "validate_record", "HarvesterError", "record_schema",
        "__version__",
    ])  # fmt: skip
    for name in harvester.__all__:
        assert getattr(harvester, name) is not None


def test_schema_ships_in_package():
    schema = harvester.record_schema()
    assert schema["properties"]["schema_version"] == {"const": 1}
    assert "source" in schema["required"]


def test_clean_html_minimal_original_page():
    html = """<html lang="en"><head><title>Quiet harbour reopens - Harbour Herald</title>
    <meta property="og:site_name" content="Harbour Herald">
    <link rel="canonical" href="https://harbourherald.example/news/quiet-harbour-reopens"></head>
    <body><article><h1>Quiet harbour reopens</h1>
    <p>The old harbour reopened on Monday after two years of repairs to its stone walls and wooden piers.</p>
    <p>Fishermen who had moved their boats to the next town said they were glad to be back home again.</p>
    </article></body></html>"""
    record = harvester.clean_html(html, "https://harbourherald.example/news/quiet-harbour-reopens")
    assert harvester.validate_record(record) == []
    assert record["title"] == "Quiet harbour reopens"
    assert record["text"] == (
        "The old harbour reopened on Monday after two years of repairs to its stone walls and wooden piers.\n\n"
        "Fishermen who had moved their boats to the next town said they were glad to be back home again."
    )
    assert record["aggregator"] is None
    assert record["source"]["name"] == "Harbour Herald"
    assert record["source"]["domain"] == "harbourherald.example"
    assert record["source"]["url"] == "https://harbourherald.example/news/quiet-harbour-reopens"
    assert [e["signal"] for e in record["source"]["evidence"]] == ["self"]
    # the same article always gets the same id
    again = harvester.clean_html(html, "https://harbourherald.example/news/quiet-harbour-reopens?utm_source=x")
    assert again["id"] == record["id"]
