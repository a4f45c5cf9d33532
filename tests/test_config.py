"""config.toml: the shipped file documents every setting with its real default; errors name key and line."""

import dataclasses
import tomllib
from pathlib import Path

import pytest

from harvester.config import Settings, load_config, parse_config
from harvester.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_documents_every_setting_with_its_default():
    data = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))["harvester"]
    defaults = Settings()
    for f in dataclasses.fields(Settings):
        assert f.name in data, f"config.toml does not document [harvester] {f.name}"
        value = getattr(defaults, f.name)
        shown = data[f.name]
        if isinstance(value, Path):
            assert Path(shown) == value, f.name
        else:
            assert shown == value, f"config.toml shows {f.name} = {shown!r}, the default is {value!r}"


def test_shipped_config_loads_and_resolves_paths_next_to_it():
    config = load_config(ROOT / "config.toml")
    assert config.settings.output_dir == ROOT / "articles"
    assert config.settings.state_path == ROOT / "harvester.db"
    assert [f.url for f in config.feeds][:1] == ["https://zephyrnet.com/feed/"]


def test_no_config_means_defaults(tmp_path):
    config = load_config(tmp_path / "absent.toml")
    assert config.feeds == ()
    assert config.settings.interval == 900
    assert config.settings.output_dir == tmp_path / "articles"


def test_feeds_only_config_works():
    config = parse_config({"feeds": [{"url": "https://example.com/feed.xml"}]})
    assert config.feeds[0].interval is None
    assert config.settings.per_host_concurrency == 2


@pytest.mark.parametrize(
    "text, words",
    [
        ('[harvester]\nper_host_concurrency = 0\n', ["per_host_concurrency", ">= 1", "line 2"]),
        ('[harvester]\nrobots = "maybe"\n', ["robots", "obey", "line 2"]),
        ('[harvester]\ninterval = "soon"\n', ["interval", "number", "line 2"]),
        ('[harvester]\nallow_private_addresses = "yes"\n', ["allow_private_addresses", "true or false"]),
        ('[harvester]\ncolour = "blue"\n', ["colour", "not a known setting"]),
        ('[[feeds]]\nname = "x"\n', ["needs a 'url'"]),
        ('[[feeds]]\nurl = "ftp://x.example/feed"\n', ["http(s) URL", "line 2"]),
        ('[[feeds]]\nurl = "https://a.example/f"\n[[feeds]]\nurl = "https://a.example/f"\n', ["listed twice", "line 4"]),
        ('[[feeds]]\nurl = "https://a.example/"\nkind = "html"\n', ["item"]),
        ('[harvester\n', ["not valid TOML"]),
        ('[weird]\nx = 1\n', ["[weird]", "not a known table"]),
    ],
)
def test_config_errors_name_the_key_and_line(tmp_path, text, words):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message
