"""Configuration: load YAML, apply overrides, validate once against the schema, hash.

The effective configuration is plain data (dicts, lists, strings, numbers). Rule files named by
keys ending in ``_file``/``_files`` are read here, at start, and embedded under the top-level
``files`` key, so workers never read files and the hash covers the rules' content.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Iterator

import orjson
import yaml
from jsonschema import Draft202012Validator

from transforms.errors import ConfigError

def _config_dir() -> Path:
    """configs/ beside the package in a checkout or editable install, else where setup.py installs it."""
    checkout = Path(__file__).resolve().parent.parent / "configs"
    return checkout if checkout.is_dir() else Path(sys.prefix) / "share" / "newsbeam" / "configs"


CONFIG_DIR = _config_dir()
DEFAULT_CONFIG = CONFIG_DIR / "default.yaml"
SCHEMA_DIR = CONFIG_DIR / "schema"


def _schema() -> dict[str, Any]:
    """The whole config schema, composed of one fragment per top-level section."""
    sections = {path.name.removesuffix(".schema.json"): json.loads(path.read_text("utf-8"))
                for path in sorted(SCHEMA_DIR.glob("*.schema.json"))}
    return {"type": "object", "additionalProperties": False, "properties": sections,
            "required": sorted(sections)}


def _read_yaml(path: Path) -> Any:
    try:
        with path.open("r", encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as error:
        raise ConfigError(str(path), f"cannot read file: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise ConfigError(str(path), f"invalid YAML: {error}") from None


def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _apply_override(config: dict[str, Any], assignment: str) -> None:
    key, sep, raw_value = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(assignment, "--set takes key=value, e.g. --set read.max_bytes=1000000")
    parts = key.strip().split(".")
    node = config
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if not isinstance(child, dict):
            raise ConfigError(".".join(parts[: depth + 1]), "no such section")
        node = child
    if parts[-1] not in node:
        raise ConfigError(key, "no such setting")
    try:
        node[parts[-1]] = yaml.safe_load(raw_value)
    except yaml.YAMLError:
        raise ConfigError(key, f"cannot parse value {raw_value!r}") from None


def _file_keys(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("_file") or key.endswith("_files"):
                yield path + (key,), value
            else:
                yield from _file_keys(value, path + (key,))


def _validate(config: dict[str, Any]) -> None:
    validator = Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        error = errors[0]
        where = ".".join(str(part) for part in error.absolute_path) or "(top level)"
        if error.validator == "additionalProperties":
            unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            if unknown:
                where = ".".join([*map(str, error.absolute_path), unknown[0]])
                raise ConfigError(where, "unknown setting (check the spelling against configs/default.yaml)")
        raise ConfigError(where, error.message)


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> dict[str, Any]:
    """The effective, validated configuration (defaults, then ``path``, then ``--set`` overrides)."""
    config = _read_yaml(DEFAULT_CONFIG)
    base_dir = CONFIG_DIR
    if path is not None:
        user = _read_yaml(Path(path))
        if user is None:
            user = {}
        if not isinstance(user, dict):
            raise ConfigError(str(path), "a config file must be a mapping of sections")
        if "files" in user:
            raise ConfigError("files", "reserved for rule files loaded by newsbeam; do not set it")
        # Runner flags of a runner overlay (configs/dataflow.yaml, ...) are Beam options, read by the
        # launcher (pipeline/runners.py), not stage settings: kept out of the config and its hash.
        options = user.pop("pipeline_options", None)
        if options is not None and not (isinstance(options, dict) and all(isinstance(name, str) for name in options)):
            raise ConfigError("pipeline_options", "must be a mapping of Beam option names to values")
        config = _merge(config, user)
        base_dir = Path(path).resolve().parent
    for assignment in overrides or []:
        _apply_override(config, assignment)
    _validate(config)
    files: dict[str, Any] = {}
    for key_path, value in _file_keys(config):
        names = value if isinstance(value, list) else [value]
        for name in names:
            candidate = Path(name) if Path(name).is_absolute() else base_dir / name
            if not candidate.exists():
                candidate = CONFIG_DIR / name
            if not candidate.exists():
                raise ConfigError(".".join(key_path), f"file {name!r} not found")
            files[name] = _read_yaml(candidate)
    config["files"] = files
    _check_stages(config)
    return config


def _check_stages(config: dict[str, Any]) -> None:
    """Let every stage check what a schema cannot (regexes compile, rule packs are well formed)."""
    from pipeline.stages import STAGE_CHECKS

    for check in STAGE_CHECKS:
        check(config)


def config_hash(config: dict[str, Any]) -> str:
    """Hash of the effective configuration (rule files' content included)."""
    return hashlib.sha256(orjson.dumps(config, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
