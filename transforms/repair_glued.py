"""Glued words: a token that is not a word but splits cleanly into known words or names ("Jinpingoffered").

Evidence, from strongest to weakest: names used elsewhere in the same document, names shared by several
documents of the run (the :class:`CorpusNames` side input), case transitions ("HassFellow") and
wordfreq's English word frequencies. The splitting (a small dynamic programme over wordfreq's table)
is written here because symspellpy/wordninja segment every string they are given, while newsbeam must
first decide, conservatively, whether a token is glued at all.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Container, Iterator, Mapping

import apache_beam as beam

from transforms.document import Document
from transforms.repair_common import TOKEN_RE, Context, PassResult, cased_words, word_set
from transforms.textmap import Edit

# A token is a run of letters and digits; one that is part of an identifier (URL, e-mail, handle,
# hashtag, ticker, path, hyphenated or apostrophised form, dotted name such as pic.twitter) is left
# alone: see _standalone. (A look-behind at the start of the pattern would make every scan 2x slower.)
# A soft hyphen (U+00AD) marks a break point inside a word: the pieces around it are not tokens.
_BEFORE_IDENTIFIER = frozenset("@#$/.-'’&+_\u00ad")
_AFTER_IDENTIFIER = frozenset("@/-'’&+_\u00ad")
# A capitalised token after a space (document_names keeps those in the middle of a sentence).
_NAME = re.compile(r" ([A-Z][^\W\d_]*)(?!\w)")
_LOWER = re.compile(r"[a-z]+")
_TITLE = re.compile(r"[A-Z][a-z]+")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"  # the letters a typo may have wrong, extra or missing
_CAMEL = re.compile(r"[A-Za-z][a-z]*(?:[A-Z][a-z]+)+")
_TITLE_CAMEL = re.compile(r"[A-Z][a-z]+(?:[A-Z][a-z]+)+")
_CAMEL_PART = re.compile(r"[A-Z]?[a-z]+")
_CAPS_TAIL = re.compile(r"([A-Z]?[a-z]{2,})([A-Z]{2,})")
_ACRONYM_HEAD = re.compile(r"([A-Z]{2,})([a-z]{3,})")
_DIGIT_HEAD = re.compile(r"([A-Z]*\d+)([a-z]{3,})")
_NUMBER_HEAD = re.compile(r"(\d{1,3})([A-Z][a-z]+)")
_WORD_DIGITS = re.compile(r"([A-Za-z]{2,})(\d+(?:st|nd|rd|th)?)")
_PREVIOUS = re.compile(r"(?<![\w'’-])(?:([^\W\d_]) )?([^\W\d_]+) $")
_GIVEN = re.compile(r"(?<![^\W\d_])(?<!['’.-])([A-Z][a-z]+) $")
_NEXT = re.compile(r" ([^\W\d_]+)(?![\w'’-])")
# Digits OCR reads for the letters they look like (1 for l, 0 for o, 5 for s), and digits text-speak
# writes for words ("4all", "2day").
_DIGIT_LETTERS = {"0": "o", "1": "l", "5": "s"}
_DIGIT_WORDS = frozenset({"2", "4"})
_MAX_WORD = 24
_CACHE_LIMIT = 200_000


def _standalone(text: str, start: int, end: int) -> bool:
    """The token at ``[start, end)`` is a word of its own, not part of an identifier."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if before.isalnum() or before in _BEFORE_IDENTIFIER or after.isalnum() or after in _AFTER_IDENTIFIER:
        return False
    return not (after == "." and end + 1 < len(text) and text[end + 1].isalpha())


def document_names(text: str) -> Counter:
    """Capitalised tokens used mid-sentence in ``text`` (after a word, comma, semicolon or
    parenthesis, so not the capitalised common words that start sentences), with their counts."""
    return Counter(match.group(1) for match in _NAME.finditer(text)
                   if match.start() > 0 and (text[match.start() - 1].isalnum() or text[match.start() - 1] in ",;)"))


class _LowerTokens(Container[str]):
    """A document's tokens lowercased, built on the first question (only tokens that would split ask)."""

    def __init__(self, tokens: Counter) -> None:
        self._tokens = tokens
        self._lower: frozenset[str] | None = None

    def __contains__(self, word: object) -> bool:
        if self._lower is None:
            self._lower = frozenset(map(str.lower, self._tokens))
        return word in self._lower


class _DocumentNames(Mapping[str, int]):
    """:func:`document_names` of one text, counted on the first question (many texts never ask)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._names: Counter | None = None

    def _counted(self) -> Counter:
        if self._names is None:
            self._names = document_names(self._text)
        return self._names

    def __getitem__(self, name: str) -> int:
        return self._counted()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._counted())

    def __len__(self) -> int:
        return len(self._counted())


class CorpusNames(beam.PTransform):
    """Names used mid-sentence in at least ``min_docs`` documents of the run: ``(name, documents)`` pairs,
    for ``beam.pvalue.AsDict``. Counting distinct documents (not occurrences) keeps one long document
    from making its glued forms look like names."""

    def __init__(self, min_docs: int) -> None:
        super().__init__()
        self._min_docs = min_docs

    def expand(self, docs):
        return (docs
                | "NamesPerDocument" >> beam.FlatMap(_distinct_names)
                | "CountDocuments" >> beam.combiners.Count.PerElement()
                | "KeepShared" >> beam.Filter(lambda item, least: item[1] >= least, self._min_docs))


def _distinct_names(doc: Document) -> list[str]:
    return sorted(document_names(doc.text))


class GluedPass:
    """Callable pass splitting glued tokens; thresholds come from the ``repair.glued`` settings."""

    def __init__(self, rules: Mapping[str, Any], settings: Mapping[str, Any], zipf: Mapping[str, float]) -> None:
        self._zipf = zipf
        self._function = word_set(rules["function_words"])
        self._final_short = word_set(rules["final_short_words"])
        self._bound_prefixes = word_set(rules["bound_prefixes"])
        self._bound_suffixes = word_set(rules["bound_suffixes"])
        self._name_suffixes = word_set(rules["name_suffixes"])
        self._brands = word_set(rules["brands"])
        self._name_prefix = re.compile("(?:%s)[A-Z]" % "|".join(sorted(map(re.escape, rules["name_prefixes"]))))
        self._units = word_set(rules["units"])
        self._months = word_set(rules["months"])
        self._derivations = sorted(word_set(rules["derivation_suffixes"]), key=lambda suffix: (-len(suffix), suffix))
        self._min_length = settings["min_length"]
        self._word_max = settings["word_max_zipf"]
        self._pair_max = settings["pair_max_zipf"]
        self._part_min = settings["part_min_zipf"]
        self._short_min = settings["short_part_min_zipf"]
        self._common_min = settings["common_word_min_zipf"]
        self._camel_head_min = settings["camel_head_min_zipf"]
        self._max_parts = settings["max_parts"]
        self._long_min = settings["long_split_min_zipf"]
        self._pair_min = settings["common_pair_max_zipf"]
        self._function_pair_min = settings["function_pair_min_zipf"]
        self._tail_min = settings["name_tail_min_zipf"]
        self._title_heads = frozenset(rules["title_heads"])
        self._protect_docs = settings["corpus_protect_docs"]
        self._segment_cache: dict[str, tuple[str, ...] | None] = {}
        self._token = re.compile(r"[^\W_]{%d,}" % self._min_length)
        self._longest_function = max(map(len, self._function))
        # Tokens this common are words, never split: the pass looks only at the others.
        self._common = cased_words(self._pair_max)
        # The words a typo may be of (see _misspelt), in the form the pass already shares per process.
        self._typo_targets = cased_words(self._part_min)

    # -- vocabulary -------------------------------------------------------------------------
    def _z(self, word: str) -> float:
        return self._zipf.get(word.lower(), 0.0)

    def _function_cuts(self, length: int) -> list[int]:
        """Cut points of a token of ``length`` that leave a function word on one side, in order."""
        longest = self._longest_function
        return sorted(set(range(1, min(length, longest + 1))) | set(range(max(1, length - longest), length)))

    def _part_ok(self, part: str, first: bool, last: bool) -> bool:
        lower = part.lower()
        if len(lower) == 1:
            return lower == "a" and not last
        if not first and lower in self._bound_suffixes:
            return False
        if not last and lower in self._bound_prefixes:
            return False
        if len(lower) == 2:
            return lower in (self._final_short if last else self._function)
        if len(lower) == 3:
            return lower in self._function or self._z(lower) >= self._short_min
        return self._z(lower) >= self._part_min

    def _segment(self, word: str) -> tuple[str, ...] | None:
        """Most probable split of a lowercase string into 2..max_parts acceptable words, or None."""
        cached = self._segment_cache.get(word, False)
        if cached is not False:
            return cached
        n = len(word)
        best: list[tuple[float, tuple[str, ...]] | None] = [None] * (n + 1)
        best[0] = (0.0, ())
        for end in range(1, n + 1):
            for start in range(max(0, end - _MAX_WORD), end):
                if best[start] is None or len(best[start][1]) >= self._max_parts:
                    continue
                part = word[start:end]
                if not self._part_ok(part, start == 0, end == n):
                    continue
                # Sum of log10 probabilities: every extra word costs, so fewer, commoner words win.
                score = best[start][0] + self._z(part) - 9.0
                if best[end] is None or score > best[end][0]:
                    best[end] = (score, best[start][1] + (part,))
        result = best[n][1] if best[n] is not None and len(best[n][1]) >= 2 else None
        if result is not None and not self._plausible(result):
            result = None
        if result is None:
            result = self._function_pair(word)
        if len(self._segment_cache) > _CACHE_LIMIT:
            self._segment_cache.clear()
        self._segment_cache[word] = result
        return result

    def _function_pair(self, word: str) -> tuple[str, ...] | None:
        """A function word glued to a rarer word ("ourparser", "theutterance", "monoidwith")."""
        best: tuple[float, tuple[str, ...]] | None = None
        for cut in range(2, len(word) - 1):
            head, tail = word[:cut], word[cut:]
            if head in self._function and len(tail) >= 4 and self._part_ok(head, True, False):
                other = tail if tail not in self._bound_suffixes else ""
            elif tail in self._function and len(head) >= 4 and self._part_ok(tail, False, True):
                other = head if head not in self._bound_prefixes else ""
            else:
                continue
            score = self._z(other)
            if other and score >= self._function_pair_min and (best is None or score > best[0]):
                best = (score, (head, tail))
        return None if best is None else best[1]

    def _plausible(self, parts: tuple[str, ...]) -> bool:
        """Reject splits that cut a word in two ("the into national", "language gram mars") and long
        splits into anything but common words."""
        if len(set(parts)) < len(parts):
            return False  # reduplication ("toto", "bonbon") is a word
        if len(parts) > 3 and any(part not in self._function and self._z(part) < self._long_min for part in parts):
            return False
        for left, right in zip(parts, parts[1:]) if len(parts) > 2 else ():
            if left in self._function and right in self._function:
                continue
            joined = left + right
            if self._z(joined) >= self._word_max or self._derived(joined):
                return False
        return True

    def _common_pair(self, parts: tuple[str, ...], whole: float) -> bool:
        """A token wordfreq knows only as a rare typo splits into two function words ("inthe") or,
        when rarer still, into a function word and a very common word ("ofwhich", "themost", but
        not "topmost", "headword")."""
        if len(parts) != 2:
            return False
        if all(part.lower() in self._function for part in parts):
            return True
        return (whole < self._pair_min and any(part.lower() in self._function for part in parts)
                and all(self._z(part) >= self._short_min for part in parts))

    # -- token shapes -------------------------------------------------------------------------
    def _derived(self, lower: str, seen: Container[str] | None = None) -> bool:
        """A known word, or one of the document's, plus a derivational ending ("intonational",
        "treebanks" next to "treebank"): a word, not glue."""
        for suffix in self._derivations:
            stem = lower[:-len(suffix)]
            if not lower.endswith(suffix) or len(stem) < 4:
                continue
            if max(self._z(stem), self._z(stem + "e")) >= self._word_max or (seen is not None and stem in seen):
                return True
        return False

    def _misspelt(self, token: str) -> bool:
        """One letter wrong, swapped or missing from a common word ("contrained", "analagous"): a typo,
        not glue. Letters removed are not tried: "amachine" is "a machine", not a typo of "machine"."""
        if len(token) < 6:
            return False
        # Every variant at once, then one set operation in C: a look-up per variant, ~500 of them for a
        # long token, was over a quarter of the pass's time.
        cuts = [(token[:i], token[i:]) for i in range(len(token) + 1)]
        variants = {head + letter + tail for head, tail in cuts for letter in _LETTERS}
        variants.update(head + letter + tail[1:] for head, tail in cuts[:-1] for letter in _LETTERS if letter != tail[0])
        variants.update(head + tail[1] + tail[0] + tail[2:] for head, tail in cuts[:-2])
        if token != token.lower():
            variants = {variant.lower() for variant in variants}
        # The variants are lowercase: of the targets only the lowercase forms can meet them.
        return not self._typo_targets.isdisjoint(variants)

    def split(self, token: str, names: Mapping[str, int], corpus: Mapping[str, int],
              count: int = 1, seen: Container[str] | None = None) -> tuple[str, ...] | None:
        """The words ``token`` splits into, or None when it is (or may be) a word, name or identifier.

        ``count`` is how often the token occurs in its document: glue is an accident, a repeated token is
        a word or a name. ``seen`` holds the document's lowercased tokens."""
        if len(token) < self._min_length or count >= 2:
            return None
        # wordfreq folds digits to zeros ("3The" is looked up as "0the"): for a token with digits its
        # frequency says nothing, and the token's shape decides.
        whole = self._z(token) if token.isalpha() else 0.0
        if whole >= self._pair_max or token.lower() in self._brands:
            return None
        if token[0].isupper() and corpus.get(token, 0) >= self._protect_docs:
            return None  # used as a name across the run: a name, not an accident
        if whole >= self._word_max and not token.islower():
            return None  # a capitalised token wordfreq knows is a name ("Beto", "Anas")
        if whole >= self._word_max:
            # A lowercase token wordfreq knows may only be a common typo ("inthe", "ofwhich"): try the
            # two-word splits around a function word, not the whole segmentation.
            parts = next((pair for pair in ((token[:cut], token[cut:]) for cut in self._function_cuts(len(token)))
                          if (pair[0] in self._function or pair[1] in self._function) and pair[0] != pair[1]
                          and self._part_ok(pair[0], True, False) and self._part_ok(pair[1], False, True)
                          and self._common_pair(pair, whole)), None)
            if parts is None or self._derived(token, seen) or self._misspelt(token):
                return None
            return parts
        parts = self._split_shape(token, names, corpus)
        if parts is None or (token.islower() and self._plural_before_is(parts)):
            return None
        # Checked last, on the few tokens that would split: the typo test costs ~500 look-ups.
        if token.isalpha() and (self._derived(token.lower(), seen) or (
                (token.islower() or _TITLE.fullmatch(token)) and self._misspelt(token.lower()))):
            return None
        return parts

    def _split_shape(self, token: str, names: Mapping[str, int], corpus: Mapping[str, int]) -> tuple[str, ...] | None:
        if _LOWER.fullmatch(token):
            return self._segment(token)
        if _TITLE.fullmatch(token):
            return self._split_title(token, names, corpus)
        match = _ACRONYM_HEAD.fullmatch(token)
        if match:
            # "VMand": an acronym glued to a function word; "PCs", "NGOs", "USAid" are left alone.
            return (match.group(1), match.group(2)) if match.group(2) in self._function else None
        if _CAMEL.fullmatch(token):
            return self._split_camel(token, names, corpus)
        match = _CAPS_TAIL.fullmatch(token)
        if match:
            return self._split_caps_tail(match.group(1), match.group(2), names, corpus)
        match = _DIGIT_HEAD.fullmatch(token)
        if match and match.group(2) not in self._units and (
                self._z(match.group(2)) >= self._common_min - 1.0 if len(match.group(2)) >= 4
                else match.group(2) in self._function and not self._ocr_word(match.group(1), match.group(2))):
            # "G20according", "2023and", "between 0and 1"; "3win" (twin?), "81ve" and "1and" (land?)
            # are left alone.
            return (match.group(1), match.group(2))
        match = _NUMBER_HEAD.fullmatch(token)
        if match and match.group(2) in self._title_heads:
            # A footnote or list number glued to the word opening a sentence ("3The freely available");
            # "4Runner", "3Com", "7Up" are not sentence openers.
            return (match.group(1), match.group(2))
        match = _WORD_DIGITS.fullmatch(token)
        if match and (match.group(1).lower() in self._function or match.group(1).lower() in self._months):
            # "of18th", "September30"; "Boeing737", "COVID19", "user42" are left alone.
            return (match.group(1), match.group(2))
        return None

    def _plural_before_is(self, parts: tuple[str, ...]) -> bool:
        """"lipsis" as "lips is": a plural before "is" disagrees in number, and a token ending in -sis
        that splits only so is rather a rare noun of that Greek ending, or a misspelt one ("eblipsis"
        for "ellipsis"), than glue. ("crisisis" still splits: "crisi" is no word; names, asked about
        lowercase words only, are often singular: "Statesis".)"""
        if len(parts) < 2 or parts[-1].lower() != "is":
            return False
        plural = parts[-2].lower()
        return plural.endswith("s") and not plural.endswith("ss") and self._z(plural[:-1]) >= self._part_min

    def _ocr_word(self, digits: str, tail: str) -> bool:
        """A lone digit that is read as a letter before ``tail`` ("1and" for "land", "5and" for "sand"),
        a word misread by OCR, or as a word ("4all", "2the" in text-speak): not a number glued to a word."""
        if len(digits) != 1:
            return False
        if digits in _DIGIT_WORDS:
            return True
        letter = _DIGIT_LETTERS.get(digits)
        return letter is not None and self._z(letter + tail) >= self._part_min

    def _attested(self, name: str, names: Mapping[str, int], corpus: Mapping[str, int]) -> bool:
        return names.get(name, 0) >= 1 or corpus.get(name, 0) >= 1

    def _split_title(self, token: str, names: Mapping[str, int], corpus: Mapping[str, int]) -> tuple[str, ...] | None:
        """"Jinpingoffered": a name used elsewhere plus common words; or a common capitalised word plus
        one very common word ("Nationsthere")."""
        best: tuple[float, tuple[str, ...]] | None = None
        for cut in range(2, len(token) - 1):
            head, tail = token[:cut], token[cut:]
            if cut < 3 and head.lower() not in self._function:
                continue
            if self._attested(head, names, corpus):
                rest = (tail,) if self._part_ok(tail, False, True) else self._segment(tail)
                rank = 1.0
                # A lost link glues a name to the next word, or to a function word and a word
                # ("Ukraineinthe"); a name before several content words is a brand or a site
                # name run together ("Wilsonbigbrandsystem").
                if rest is not None and len(rest) > 1 and (len(rest) > 2 or not set(rest) & self._function):
                    continue
                # Link text runs into a common word ("Jinpingoffered"), not into a rare one ("Lightcloud").
                if rest is not None and any(part not in self._function and self._z(part) < self._tail_min
                                            for part in rest):
                    continue
            elif head in self._title_heads:
                # A sentence-initial function word ("Thechallenge", "Itwould", "Foraspeech...").
                rest, rank = self._segment(tail) if not self._part_ok(tail, False, True) else (tail,), 0.5
                if rest is not None and (len(rest[-1]) < 3 or any(len(part) < 3 and part != "a" for part in rest)):
                    continue
            elif (cut >= 3 and self._z(head) >= self._part_min and self._z(tail) >= self._common_min
                  and self._part_ok(tail, False, True) and tail not in self._bound_prefixes):
                # A prefix is common only as the head of hyphenated compounds ("anti" of "anti-war"):
                # it is no evidence of a word run on ("Stampanti" is Italian for printers).
                rest, rank = (tail,), 0.0
            else:
                continue
            if rest is None or len(rest) + 1 > self._max_parts or rest[-1] in self._name_suffixes:
                continue
            candidate = (rank, sum(self._z(part) for part in rest) + self._z(head)), (head, *rest)
            if best is None or candidate[0] > best[0]:
                best = candidate
        # Unknown capitalised tokens are mostly names ("Cardie", "Engelson"): no free segmentation.
        return None if best is None else best[1]

    def _split_camel(self, token: str, names: Mapping[str, int], corpus: Mapping[str, int]) -> tuple[str, ...] | None:
        """"HassFellow", "theKremlin": split at case transitions when every piece is a word or name."""
        if self._name_prefix.match(token):
            return None  # McDonald, MacKenzie, DeSantis, LeBron, FitzGerald
        pieces = tuple(_CAMEL_PART.findall(token))
        if "".join(pieces) != token:
            return None
        # A long piece may itself be glue ("exampleforqueryForaspeech"): split it as a token of its own.
        pieces = tuple(piece for chunk in pieces for piece in self._camel_piece(chunk, names, corpus))
        if len(pieces) > self._max_parts:
            return None
        parts = pieces
        head, rest = parts[0], parts[1:]
        if head.islower() and len(head) >= 4 and self._z(head) >= self._part_min + 0.5:
            # A common lowercase word glued to a capitalised one ("readersHaving", "queryFor").
            return parts if all(len(part) >= 3 and (self._attested(part, names, corpus)
                                                    or self._z(part) >= self._tail_min) for part in rest) else None
        if head.islower():
            # A lowercase head is a function word ("theKremlin"); "iPhone", "eBay" are not split.
            if head not in self._function or (len(head) < 2 and head != "a"):
                return None
            # After a function word a capitalised piece may be a rarer name ("ofBergamo").
            return parts if all(self._attested(part, names, corpus) or self._z(part) >= self._camel_head_min
                                for part in rest) else None
        if len(head) < 3 and head.lower() not in self._function:
            return None
        # Brands are mostly common words run together (SunExpress, StackAdapt, SportsBusiness): a
        # capitalised head must be a name seen in the run, or a rare, name-like word ("Hass"; the
        # pass then also wants a given name before the token, "Ryan HassFellow").
        if not (self._attested(head, names, corpus) or self._camel_head_min <= self._z(head) < self._part_min):
            return None
        for part in rest:
            if len(part) < 4 and part.lower() not in self._function and not self._attested(part, names, corpus):
                return None
            if not (self._attested(part, names, corpus) or self._z(part) >= self._tail_min):
                return None
        return parts

    def _camel_piece(self, chunk: str, names: Mapping[str, int], corpus: Mapping[str, int]) -> tuple[str, ...]:
        if (self._z(chunk) >= self._word_max or self._attested(chunk, names, corpus)
                or len(chunk) < 2 * self._min_length):
            return (chunk,)
        split = self._segment(chunk) if chunk.islower() else self._split_title(chunk, names, corpus)
        return split or (chunk,)

    def _split_caps_tail(self, head: str, caps: str, names: Mapping[str, int],
                         corpus: Mapping[str, int]) -> tuple[str, ...] | None:
        """"OrganizationTHE", "theDEDB": a word glued to a shouted function word, or a function word
        glued to an acronym ("leanFIRE" is a name)."""
        if head in self._function:
            return (head, caps)  # "theDEDB", "ofNATO"
        if caps.lower() in self._function and len(head) >= 4 and (
                self._z(head) >= self._part_min or self._attested(head, names, corpus)):
            return (head, caps)
        return None

    def _after_given_name(self, text: str, start: int) -> bool:
        # Digits may precede the name ("3Ryan" is split into "3 Ryan" later, and the next run must
        # decide as this one did); a capitalised function word ("The HassFellow") is no given name.
        before = _GIVEN.search(text, max(0, start - _MAX_WORD), start)
        return before is not None and before.group(1) not in self._title_heads and (
            before.group(1).lower() not in self._function)

    def _fragment(self, text: str, start: int, end: int) -> bool:
        """Part of a word split by a stray space ("il lustrated", "T herefore"): joined with its
        neighbour it is a common word, so it is not glue."""
        before = _PREVIOUS.search(text, max(0, start - _MAX_WORD), start)
        after = _NEXT.match(text, end)
        token = text[start:end]
        if before is not None:
            # "i l lustrated": up to two letters may have been split off before.
            joined = "".join(part for part in before.groups() if part) + token
            if self._z(joined) >= self._part_min or self._z(before.group(2) + token) >= self._part_min:
                return True
        return after is not None and self._z(token + after.group(1)) >= self._part_min

    # -- the pass -----------------------------------------------------------------------------
    def __call__(self, text: str, context: Context) -> PassResult:
        if not context.english:
            return PassResult([], [])
        # Decide once per distinct token (counted in C), and only for the few that are not common words
        # (a set difference, in C); walk the text only if something splits.
        counts = context.tokens if context.tokens is not None else Counter(TOKEN_RE.findall(text))
        unknown = sorted(token for token in counts.keys() - self._common
                         if len(token) >= self._min_length and not token.isdigit() and self._z(token) < self._pair_max)
        if not unknown:
            return PassResult([], [])
        names = _DocumentNames(text)
        seen = _LowerTokens(counts)
        splits: dict[str, tuple[str, ...]] = {}
        for token in unknown:
            parts = self.split(token, names, context.corpus_names, counts[token], seen)
            if parts is not None:
                splits[token] = parts
        edits: list[Edit] = []
        if splits:
            for match in self._token.finditer(text):
                parts = splits.get(match.group())
                if (parts is not None and _standalone(text, match.start(), match.end())
                        and not context.protected.overlaps(match.start(), match.end())
                        and not self._fragment(text, match.start(), match.end())
                        and (not _TITLE_CAMEL.fullmatch(match.group()) or self._after_given_name(text, match.start()))):
                    edits.append(Edit(match.start(), match.end(), " ".join(parts)))
        return PassResult(edits, [])


def build(rules: Mapping[str, Any], settings: Mapping[str, Any], zipf: Mapping[str, float]) -> GluedPass:
    return GluedPass(rules, settings, zipf)
