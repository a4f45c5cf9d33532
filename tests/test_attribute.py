"""Each attribution signal alone, then the combination rules."""

from __future__ import annotations

import pytest

from harvester import attribute as A
from harvester.models import Cleaned, Evidence, Extracted, FeedEntry, Link, PageMeta, Removal
from harvester.outlets import default_registry
from harvester.rules import load_rules

REG = default_registry()
RULES = load_rules()


def ctx(
    url="https://partner.example/story",
    *,
    meta: PageMeta | None = None,
    paragraphs=("A body paragraph that is long enough to be an article.",),
    removals=(),
    authors=(),
    entry: FeedEntry | None = None,
) -> A.Context:
    meta = meta or PageMeta()
    ex = Extracted(url=url, title="T", paragraphs=list(paragraphs), language="en", published=None,
                   authors=list(authors), sitename=None, meta=meta)  # fmt: skip
    cl = Cleaned(title="T", paragraphs=list(paragraphs), aggregator=None, removals=list(removals))
    return A.Context(url=url, domain=A.domain_of(url), extracted=ex, cleaned=cl, entry=entry, registry=REG, rules=RULES)


def signals(fn, c) -> list[tuple[str, str | None, str | None]]:
    return [(e.signal, e.name, e.url) for e in fn(c)]


def test_canonical_cross_domain():
    c = ctx(meta=PageMeta(canonical="https://www.theguardian.com/technology/2024/feb/15/x"))
    assert signals(A.sig_canonical, c) == [("canonical_cross_domain", None, "https://www.theguardian.com/technology/2024/feb/15/x")]


def test_canonical_to_self_or_aggregator_or_home_is_no_signal():
    for canonical in ("https://partner.example/story", "https://zephyrnet.com/x/", "https://www.theguardian.com/"):
        assert signals(A.sig_canonical, ctx(meta=PageMeta(canonical=canonical))) == []


def test_og_url_cross_domain_is_weak():
    c = ctx(meta=PageMeta(meta={"og:url": "https://www.wired.com/story/x/"}))
    ev = list(A.sig_canonical(c))
    assert [(e.signal, e.weight) for e in ev] == [("og_url_cross_domain", 0.5)]


def test_meta_syndication_and_original_source():
    c = ctx(meta=PageMeta(meta={"syndication-source": "https://www.latimes.com/a/b", "original-source": "propublica.org"}))
    ev = list(A.sig_meta_sources(c))
    assert [(e.signal, e.url, e.domain) for e in ev] == [
        ("syndication_source", "https://www.latimes.com/a/b", "latimes.com"),
        ("original_source", None, "propublica.org"),
    ]


def test_jsonld_is_based_on_string_or_object():
    for value in ("https://www.nature.com/articles/x", {"@type": "CreativeWork", "url": "https://www.nature.com/articles/x"}):
        c = ctx(meta=PageMeta(jsonld=[{"@type": "NewsArticle", "isBasedOn": value}]))
        assert signals(A.sig_jsonld, c) == [("jsonld_is_based_on", None, "https://www.nature.com/articles/x")]


def test_republished_line_takes_the_foreign_article_link():
    text = "This article is republished from The Conversation under a Creative Commons license. Read the original article."
    meta = PageMeta(links=[
        Link("https://theconversation.com/", "The Conversation"),
        Link("https://theconversation.com/heat-pumps-221234", "Read the original article"),
    ])  # fmt: skip
    c = ctx(meta=meta, removals=[Removal("generic-republished-line", text, "republished_line", "The Conversation")])
    assert signals(A.sig_removed_lines, c) == [("republished_line", "The Conversation", "https://theconversation.com/heat-pumps-221234")]


def test_republished_line_without_link_names_the_outlet_only():
    c = ctx(removals=[Removal("generic-read-original-line", "Read the original article on Business Insider.", "republished_line", "Business Insider")])
    ev = list(A.sig_removed_lines(c))
    assert [(e.signal, e.name, e.url, e.weight) for e in ev] == [("republished_name", "Business Insider", None, 0.65)]


def test_legacy_source_url_line():
    url = "https://www.coindesk.com/markets/2021/03/01/x/"
    c = ctx("https://zephyrnet.com/x/", removals=[Removal("plato-source-url", f"Source: {url}", "source_line_url", None, url)])
    assert signals(A.sig_removed_lines, c) == [("source_line_url", None, url)]


def test_more_from_footer_names_the_outlet():
    c = ctx("https://zephyrnet.com/x/", removals=[Removal("plato-more-from", "More from The Register", "more_from_footer", "The Register")])
    assert signals(A.sig_removed_lines, c) == [("more_from_footer", "The Register", None)]


def test_conversation_pixel_matches_its_link():
    meta = PageMeta(
        pixels=["https://counter.theconversation.com/content/221234/count.gif?distributor=republish-lightbox-basic"],
        links=[Link("https://theconversation.com/heat-pumps-keep-working-221234", "original")],
    )
    assert signals(A.sig_conversation_pixel, ctx(meta=meta)) == [
        ("conversation_pixel", "The Conversation", "https://theconversation.com/heat-pumps-keep-working-221234")
    ]


def test_feed_entry_source():
    home = FeedEntry("https://news.google.com/rss", "1", "https://news.google.com/rss/articles/CBMi", source_url="https://www.theregister.com", source_name="The Register")
    assert signals(A.sig_feed_entry, ctx(entry=home)) == [("feed_source_name", "The Register", None)]
    article = FeedEntry("https://x.example/feed.json", "1", "https://x.example/a", source_url="https://www.wired.com/story/y/")
    assert signals(A.sig_feed_entry, ctx(entry=article)) == [("feed_source_url", None, "https://www.wired.com/story/y/")]


def test_provider_block():
    meta = PageMeta(providers=["Business Insider"], provider_links=["https://www.businessinsider.com/"])
    ev = list(A.sig_provider_block(ctx("https://finance.yahoo.com/news/x-123456789.html", meta=meta)))
    assert [(e.signal, e.name, e.domain) for e in ev] == [("provider_block", "Business Insider", "businessinsider.com")]


@pytest.mark.parametrize(
    "head, outlet",
    [
        ("WASHINGTON (AP) — The Senate voted on Tuesday to pass the bill.", "The Associated Press"),
        ("LONDON, Feb 15 (Reuters) - Oil prices rose on Thursday.", "Reuters"),
        ("(Bloomberg) -- Stocks fell in Asia.", "Bloomberg"),
        ("PARIS (AFP) - Farmers blocked roads around the capital.", "Agence France-Presse"),
    ],
)
def test_wire_datelines(head, outlet):
    assert signals(A.sig_wires, ctx(paragraphs=[head, "More text follows here."])) == [("wire_dateline", outlet, None)]


def test_wire_dateline_only_at_the_head():
    body = ["First paragraph about local news."] * 30 + ["He said (AP) — nothing."]
    assert signals(A.sig_wires, ctx(paragraphs=body)) == []


def test_contributed_is_partial_and_weak():
    c = ctx(paragraphs=["Local story text here.", "The Associated Press contributed to this report."])
    ev = list(A.sig_wires(c))
    assert [(e.signal, e.name, e.weight) for e in ev] == [("contributed", "The Associated Press", 0.3)]


def test_signoff_names_the_outlets_that_use_it():
    c = ctx(removals=[Removal("generic-signoff", "®", "signoff")])
    assert signals(A.sig_signoff, c) == [("signoff", "The Register", None)]


def test_byline_outlet_only_when_the_outlet_is_known():
    assert signals(A.sig_byline, ctx(authors=["Jane Roe, Reuters"])) == [("byline_outlet", "Reuters", None)]
    assert signals(A.sig_byline, ctx(authors=["Jane Roe, Staff Writer"])) == []


def test_site_name_of_another_outlet():
    c = ctx(meta=PageMeta(meta={"og:site_name": "WIRED"}))
    assert [(s, n) for s, n, _ in signals(A.sig_site_name, c)] == [("site_name", "WIRED")]


def test_hotlinked_images_through_an_image_proxy():
    images = [(f"https://i0.wp.com/css-tricks.com/wp-content/uploads/2024/0{i}.png", "") for i in range(1, 5)]
    c = ctx("https://techbuzzhub.xyz/grid/", meta=PageMeta(images=images))
    assert signals(A.sig_hotlinks, c) == [("hotlinked_images", "CSS-Tricks", None)]


def test_noindex_says_copy_but_names_nobody():
    ev = list(A.sig_noindex(ctx(meta=PageMeta(meta={"robots": "noindex, follow"}))))
    assert [(e.signal, e.weight, e.name) for e in ev] == [("noindex", 0.0, None)]


# ---------------------------------------------------------------- combination


def test_url_signals_combine_by_max_and_outlet_only_by_noisy_or():
    group = [
        Evidence("canonical_cross_domain", "", 0.95, url="https://a.example/x"),
        Evidence("syndication_source", "", 0.9, url="https://a.example/x"),
        Evidence("more_from_footer", "", 0.75, name="A"),
        Evidence("signoff", "", 0.6, name="A"),
    ]
    assert A.score(group) == pytest.approx(1 - (1 - 0.95) * (1 - 0.75) * (1 - 0.6))


def test_stronger_wins_and_loser_stays_in_evidence():
    c = ctx(meta=PageMeta(canonical="https://www.theguardian.com/technology/2024/feb/15/x"), authors=["Jane Roe, Reuters"])
    result = A.attribute(c.extracted, c.cleaned, url=c.url, registry=REG, rules=RULES)
    assert (result.name, result.domain) == ("The Guardian", "theguardian.com")
    assert result.url == "https://www.theguardian.com/technology/2024/feb/15/x"
    assert "byline_outlet" in [e.signal for e in result.evidence]


def test_never_an_aggregator_even_when_it_is_all_there_is():
    c = ctx("https://zephyrnet.com/x/", meta=PageMeta(canonical="https://platoblockchain.com/x/", meta={"og:site_name": "Zephyrnet"}))
    result = A.attribute(c.extracted, c.cleaned, url=c.url, registry=REG, rules=RULES)
    assert result.name is None and result.domain is None and result.confidence == 0


def test_original_page_is_its_own_source():
    c = ctx("https://arstechnica.com/science/2024/05/birds/", meta=PageMeta(canonical="https://arstechnica.com/science/2024/05/birds/"))
    result = A.attribute(c.extracted, c.cleaned, url=c.url, registry=REG, rules=RULES)
    assert (result.name, result.domain, result.url) == ("Ars Technica", "arstechnica.com", "https://arstechnica.com/science/2024/05/birds/")
    assert [e.signal for e in result.evidence] == ["self"]


def test_unknown_outlet_keeps_its_name_with_no_domain():
    c = ctx("https://zephyrnet.com/x/", removals=[Removal("plato-more-from", "More from Quantum Lattice Weekly", "more_from_footer", "Quantum Lattice Weekly")])
    result = A.attribute(c.extracted, c.cleaned, url=c.url, registry=REG, rules=RULES)
    assert (result.name, result.domain, result.url) == ("Quantum Lattice Weekly", None, None)
    assert result.confidence == pytest.approx(0.75)


def test_contributed_alone_does_not_displace_the_page_itself():
    c = ctx("https://www.kare11.com/article/news/local/x/89-1", paragraphs=["Local story text.", "The Associated Press contributed to this report."])
    result = A.attribute(c.extracted, c.cleaned, url=c.url, registry=REG, rules=RULES)
    assert result.domain == "kare11.com"
    assert "contributed" in [e.signal for e in result.evidence]
