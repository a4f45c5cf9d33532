"""Every rule in every pack matches its own examples and none of its counter-examples."""

import pytest

from harvester.rules import load_rules

RULES = [(pack.name, rule) for pack in load_rules().packs for rule in pack.rules]


@pytest.mark.parametrize("pack,rule", RULES, ids=[r.id for _, r in RULES])
def test_rule_examples(pack, rule):
    assert rule.examples, f"{pack}: rule {rule.id} has no examples"
    for example in rule.examples:
        hit = rule.regex.search(example) if rule.action == "strip" else rule.regex.fullmatch(example)
        assert hit, f"{rule.id} does not match its example {example!r}"
    for counter in rule.counter_examples:
        hit = rule.regex.search(counter) if rule.action == "strip" else rule.regex.fullmatch(counter)
        assert not hit, f"{rule.id} matches its counter-example {counter!r}"


def test_rule_ids_are_unique():
    ids = load_rules().all_rule_ids()
    assert len(ids) == len(set(ids))


def test_plato_pack_covers_the_network_languages():
    import tomllib
    from importlib import resources

    data = tomllib.loads((resources.files("harvester") / "rules/packs/plato.toml").read_text("utf-8"))
    langs = set(data["phrases"]) - {"any"}
    wanted = set("en fr de es it pt nl ja ko zh ru ar tr pl sv da fi no el he hi id vi th uk cs hu ro".split())
    assert wanted <= langs, f"missing: {sorted(wanted - langs)}"
    for lang in wanted:
        table = data["phrases"][lang]
        for key in ("vertical_search", "ai", "time_stamp", "published", "source"):
            assert table.get(key), f"[phrases.{lang}] lacks {key}"
        assert table.get("more_from") or table.get("more_from_suffix"), f"[phrases.{lang}] lacks more_from"
