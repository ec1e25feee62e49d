import pytest

from pipeline.config import config_hash, load_config
from transforms.errors import ConfigError


def test_config_default_loads_and_validates():
    config = load_config()
    assert config["read"]["max_bytes"] == 5_000_000
    assert "files" in config


def test_config_set_overrides_one_key_with_yaml_typing():
    config = load_config(overrides=["read.max_bytes=1000", "read.legacy_max_chaos=0.1"])
    assert config["read"]["max_bytes"] == 1000
    assert config["read"]["legacy_max_chaos"] == 0.1


def test_config_hash_changes_with_any_setting_and_is_stable():
    assert config_hash(load_config()) == config_hash(load_config())
    assert config_hash(load_config()) != config_hash(load_config(overrides=["read.max_bytes=1000"]))


@pytest.mark.parametrize("overrides, key", [
    (["read.max_bytez=3"], "read.max_bytez"),
    (["nosuch.key=3"], "nosuch"),
    (["read.max_bytes=many"], "read.max_bytes"),
    (["read.legacy_max_chaos=2"], "read.legacy_max_chaos"),
    (["read.max_bytes"], "read.max_bytes"),
])
def test_config_bad_overrides_name_the_key(overrides, key):
    with pytest.raises(ConfigError) as error:
        load_config(overrides=overrides)
    assert error.value.key == key
    assert key in str(error.value)


@pytest.mark.parametrize("text, key", [
    ("read:\n  max_bytes: 10\n  colour: red\n", "read.colour"),
    ("reed:\n  max_bytes: 10\n", "reed"),
    ("read:\n  max_bytes: '10'\n", "read.max_bytes"),
    ("read:\n  jsonl_extensions: jsonl\n", "read.jsonl_extensions"),
    ("files: {}\n", "files"),
    ("pipeline_options: --runner=DataflowRunner\n", "pipeline_options"),
    ("pipeline_options:\n  - runner: DataflowRunner\n", "pipeline_options"),
])
def test_config_bad_file_names_the_key(tmp_path, text, key):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.key == key


def test_config_invalid_yaml_is_a_config_error(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("read: [unclosed\n")
    with pytest.raises(ConfigError):
        load_config(path)


def test_config_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("read: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError):
        load_config(path)
