"""The repair stage: mojibake, stray punctuation and spacing, glued words, machine-translation artefacts.

``build(config)`` returns the per-document function run by :class:`transforms.stage.DocumentStage`;
its optional second argument is the run's shared names (:class:`transforms.repair_glued.CorpusNames`,
as ``beam.pvalue.AsDict``). Enabled kinds run in a fixed order, each a pass over the current text
(repeated while a later pass changed the text, machine-translation evidence read last, once);
every edit is appended to ``doc.repairs`` as ``{kind, before, after, start}`` in the order applied,
``start`` being where the edit now sits in the final text (earlier records are shifted when a later
pass edits before them; where a later edit falls inside an earlier one's output, the earlier record
keeps what its own pass wrote).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from types import MappingProxyType
from typing import Any, Callable, Mapping

import orjson
from cachetools import LRUCache

from transforms import repair_encoding, repair_glued, repair_mt, repair_punctuation
from transforms.document import Document, text_key
from transforms.errors import ConfigError
from transforms.repair_common import (TOKEN_RE, Context, PassResult, Protector, RepairPass, cased_words,
                                      english_share, protected_rule, word_set, zipf_table)
from transforms.rules import compile_scan_rule
from transforms.textmap import shift

STAGE = "repair"
# Order matters: decode first, then fix spacing so tokens are whole, then split glued tokens so the
# machine-translation patterns see "Nations there Shanghai".
KINDS = ("encoding", "punctuation", "glued_word", "mt_artifact")
# A pass that asks for it (candidates held back, or edits that may expose more) runs again on its own
# output, and the sequence of passes again after a later pass changed the text, at most this many
# times each, so that repairing repaired text changes nothing.
MAX_ROUNDS = 3


def _passes(settings: Mapping[str, Any], rules: Mapping[str, Any]) -> list[tuple[str, RepairPass]]:
    enabled = [kind for kind in KINDS if settings["kinds"][kind]]
    zipf = zipf_table("en")
    factories = {
        "encoding": lambda: repair_encoding.build(rules["encoding"]),
        "punctuation": lambda: repair_punctuation.build(rules["punctuation"], zipf, settings,
                                                        word_set(rules["glued"]["bound_prefixes"])),
        "glued_word": lambda: repair_glued.build(rules["glued"], settings["glued"], zipf),
        "mt_artifact": lambda: repair_mt.build(rules["mt"]),
    }
    return [(kind, factories[kind]()) for kind in enabled]


def _record(doc: Document, kind: str, result: PassResult, evidence: list[dict[str, Any]]) -> None:
    """Apply one pass's edits to ``doc`` and log them, moving earlier offsets to the new text."""
    edits = result.edits
    befores = [doc.text[edit.start:edit.end] for edit in edits]
    for record in doc.repairs:
        record["start"] = shift(record["start"], edits)
    for item in evidence:
        item["start"] = shift(item["start"], edits)
    new_evidence = [dict(item, start=shift(item["start"], edits)) for item in result.evidence]
    starts, _ = doc.edit(edits)
    doc.repairs.extend({"kind": kind, "before": before, "after": edit.replacement, "start": start}
                       for edit, before, start in zip(edits, befores, starts))
    evidence.extend(new_evidence)


# The passes' results on one text, in the order applied: what replaying them on the same text gives.
Rounds = list[tuple[str, PassResult]]
# The names of a run that gives none: one object, so that its digest is made once (see _Replays.key).
_NO_NAMES: Mapping[str, int] = MappingProxyType({})


class _Replays:
    """What repair did to the texts met last (least recently used go first), for the run's names.

    A syndicated copy, once its page furniture is gone, often has its original's text, and the
    passes' results depend only on the text and the corpus names; replaying them costs a fraction
    of finding them. The names are a side input: a new one (another window) gets its own entries.
    """

    def __init__(self, size: int) -> None:
        self.rounds: LRUCache = LRUCache(maxsize=size)
        self._names: Mapping[str, int] | None = None
        self._names_key = b""

    def key(self, text: str, names: Mapping[str, int]) -> tuple[bytes, bytes]:
        if names is not self._names:  # digested once per side-input object, not per document
            self._names = names
            self._names_key = hashlib.blake2b(orjson.dumps(sorted(names.items())), digest_size=16).digest()
        return text_key(text), self._names_key


def build(config: Mapping[str, Any]) -> Callable[..., Document]:
    """The repair function for one worker: rules compiled and the word table loaded once, here."""
    settings = config["repair"]
    rules = config["files"][settings["rules_file"]]
    passes = _passes(settings, rules)
    shaping = [(kind, run) for kind, run in passes if kind != "mt_artifact"]
    reading = [(kind, run) for kind, run in passes if kind == "mt_artifact"]
    protector = Protector(rules["protected"])
    zipf = zipf_table("en")
    word_zipf, min_share = settings["english_word_min_zipf"], settings["english_min_share"]
    common = cased_words(word_zipf)
    word_length = settings["english_word_max_length"]
    suspect_weight = settings["mt"]["suspect_min_weight"]
    replays = _Replays(settings["reuse_texts"]) if settings["reuse_texts"] else None

    def repair(doc: Document, corpus_names: Mapping[str, int] | None = None) -> Document:
        names = corpus_names or _NO_NAMES
        key = replays.key(doc.text, names) if replays is not None else None
        rounds = replays.rounds.get(key) if replays is not None else None
        evidence: list[dict[str, Any]] = []
        if rounds is None:
            rounds = find_and_apply(doc, names, evidence)
            if replays is not None:
                replays.rounds[key] = rounds
        else:
            for kind, result in rounds:
                _record(doc, kind, result, evidence)
        doc.mt_evidence = evidence
        doc.mt_suspect = sum(item["weight"] for item in evidence) >= suspect_weight
        return doc

    def find_and_apply(doc: Document, corpus_names: Mapping[str, int], evidence: list[dict[str, Any]]) -> Rounds:
        """Run the passes over ``doc``, applying and recording their edits; their results in order."""
        rounds: Rounds = []
        # Counted once, and again only after a pass changed the text.
        tokens: Counter | None = Counter(TOKEN_RE.findall(doc.text))
        english = english_share(tokens, common, zipf, word_zipf, word_length) >= min_share

        def run_pass(kind: str, run: RepairPass) -> bool:
            """Run one pass to its own fixed point; whether it changed the text."""
            nonlocal tokens
            changed = False
            for _ in range(MAX_ROUNDS):
                result = run(doc.text, Context(english, protector.spans(doc.text), corpus_names, tokens))
                rounds.append((kind, result))
                _record(doc, kind, result, evidence)
                if result.edits:
                    tokens, changed = None, True
                if result.complete or not result.edits:
                    break
            return changed

        # A pass's edits can give an earlier pass work ("G20according -query": the dash rule judges
        # the word before it, which the glued-word pass splits), so the passes that shape the text
        # run again while a later one changed it; machine-translation evidence is read once, last.
        for _ in range(MAX_ROUNDS):
            changed = [run_pass(kind, run) for kind, run in shaping]
            if not any(changed[1:]):
                break
        for kind, run in reading:
            run_pass(kind, run)
        return rounds

    return repair


def check_config(config: Mapping[str, Any]) -> None:
    """Start-time checks: the rule file has every pack and each regex compiles (naming the rule)."""
    settings = config["repair"]
    rules = config["files"].get(settings["rules_file"])
    if not isinstance(rules, dict):
        raise ConfigError("repair.rules_file", "must name a YAML mapping of rule packs")
    for pack, keys in (("protected", ()), ("encoding", ("suspect", "lossy")),
                       ("punctuation", ("abbreviations", "sentence_openers")),
                       ("glued", ("function_words", "final_short_words", "title_heads", "bound_prefixes",
                                  "bound_suffixes", "name_suffixes", "name_prefixes", "brands", "months", "units",
                                  "derivation_suffixes")),
                       ("mt", ("there_for_and", "flags"))):
        if not isinstance(rules.get(pack), dict):
            raise ConfigError(f"repair.rules_file:{pack}", "missing rule pack (a mapping)")
        for key in keys:
            if key not in rules[pack]:
                raise ConfigError(f"repair.rules_file:{pack}.{key}", "missing")
            value = rules[pack][key]
            if isinstance(value, list) and not all(isinstance(item, (str, dict)) for item in value):
                # YAML reads a bare no/yes/on/off as a boolean: such words must be quoted.
                raise ConfigError(f"repair.rules_file:{pack}.{key}",
                                  "every word must be a string (quote no, on, off, yes)")
    for index, rule in enumerate(rules["mt"]["flags"]):
        missing = {"id", "pattern", "weight", "required"} - set(rule)
        if missing:
            raise ConfigError(f"repair.rules_file:mt.flags[{index}]", f"missing {', '.join(sorted(missing))}")
    for index, rule in enumerate(rules["encoding"]["lossy"]):
        if {"id", "pattern", "replacement"} - set(rule):
            raise ConfigError(f"repair.rules_file:encoding.lossy[{index}]", "needs id, pattern and replacement")
    for name, rule in rules["protected"].items():
        key = f"repair.rules_file:protected.{name}"
        # The protector scans every text with one alternation of these rules, in re.
        compile_scan_rule(protected_rule(rule, key)[0], key)
    repair_encoding.build(rules["encoding"])
    repair_mt.build(rules["mt"])
