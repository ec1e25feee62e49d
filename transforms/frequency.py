"""Word frequencies from wordfreq in a form small enough to hold for every language of a run.

wordfreq holds each language it is asked about as Python lists and a ``{word: frequency}`` dict,
30 to 130 MB a language: the nine languages of the bench corpus grew a worker by 512 MB, paid again
by every worker process. Here a language is two arrays, the sorted 64-bit hashes of its words and
each word's frequency bucket, about 10 bytes a word (7 MB for Russian's 713,000 words; the nine
languages under 100 MB), and wordfreq's caches are not filled. Written by hand because wordfreq has
no lookup without its dict; the figures are wordfreq's own (:func:`zipf_frequency` gives what
``wordfreq.zipf_frequency`` gives, checked in the tests).

Building a table (reading wordfreq's list, hashing every word) takes 0.01-0.45 s a language, paid by
every worker process of every run; with :func:`use_cache` the arrays are kept in a folder
(``relations.frequency_cache``) and read back in milliseconds by later processes.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import zipfile
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Iterable

import numpy as np
from wordfreq import (INFERRED_SPACE_FACTOR, cB_to_freq, freq_to_zipf, get_frequency_list, lossy_tokenize,
                      zipf_to_freq)
from wordfreq.language_info import get_language_info
from wordfreq.numbers import digit_freq, smash_numbers

_FLOOR = zipf_to_freq(0.0)


def bucket_zipf(index: int) -> float:
    """The Zipf frequency of the words in bucket ``index`` of a wordfreq list (bucket i: -i centibels)."""
    return round(math.log10(cB_to_freq(-index)) + 9.0, 2)


_FNV_OFFSET, _FNV_PRIME = np.uint64(0xCBF29CE484222325), np.uint64(0x100000001B3)


def _hashes(words: Iterable[str]) -> np.ndarray:
    """64-bit FNV-1a of each word's UTF-8 bytes, all words a byte position at a time.

    Deterministic across processes (Python's str hash is salted per process), and vectorised: hashing
    word by word (hashlib) took 0.6 s for German's 634,000 words, so most of a table's building.
    """
    encoded = [word.encode("utf-8") for word in words]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    order = np.argsort(-lengths, kind="stable")  # longest first: the words still going are a prefix
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    starts = (np.cumsum(lengths) - lengths)[order]
    shorter = -lengths[order]  # ascending
    hashes = np.full(len(encoded), _FNV_OFFSET, dtype=np.uint64)
    for position in range(int(-shorter[0]) if len(shorter) else 0):
        going = int(np.searchsorted(shorter, -position))  # the words longer than ``position`` bytes
        head = hashes[:going]
        np.bitwise_xor(head, data[starts[:going] + position], out=head)
        np.multiply(head, _FNV_PRIME, out=head)
    unsorted = np.empty_like(hashes)
    unsorted[order] = hashes
    return unsorted


class FrequencyTable:
    """One language's wordfreq list ('best'): words by hash, each with its frequency bucket."""

    def __init__(self, hashes: np.ndarray, index: np.ndarray, buckets: int) -> None:
        """``hashes``: sorted and distinct; ``index``: each hash's bucket, of ``buckets``."""
        self._hashes, self._index = hashes, index
        self._frequency = np.array([cB_to_freq(-i) for i in range(buckets)])
        self._zipf = np.array([bucket_zipf(i) for i in range(buckets)])

    @classmethod
    def build(cls, buckets: list[list[str]]) -> FrequencyTable:
        """The table of a wordfreq list: its words' frequency buckets, most frequent first."""
        hashes = _hashes(word for bucket in buckets for word in bucket)
        index = np.repeat(np.arange(len(buckets), dtype=np.uint16), [len(bucket) for bucket in buckets])
        # A word in two buckets keeps the later one, as wordfreq's dict does: the last of equal hashes.
        order = np.argsort(hashes, kind="stable")
        hashes, index = hashes[order], index[order]
        last = np.append(hashes[1:] != hashes[:-1], True)
        return cls(hashes[last], index[last], len(buckets))

    def save(self, path: Path) -> None:
        """Write the table to ``path`` whole or not at all: a process reading it meanwhile, or after a
        crash, finds the old file or none, never half of one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(out, hashes=self._hashes, index=self._index, buckets=len(self._zipf))
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> FrequencyTable:
        """The table :meth:`save` wrote; ValueError when the file is not one."""
        with np.load(path) as saved:
            hashes, index, buckets = saved["hashes"], saved["index"], int(saved["buckets"])
        if (hashes.dtype != np.uint64 or index.dtype != np.uint16 or hashes.shape != index.shape
                or hashes.ndim != 1 or not len(hashes) or index.max() >= buckets):
            raise ValueError(f"{path} does not hold a frequency table")
        return cls(hashes, index, buckets)

    def __len__(self) -> int:
        return len(self._hashes)

    def _buckets(self, words: Iterable[str]) -> np.ndarray:
        """Each word's bucket, -1 where the list does not have it."""
        wanted = _hashes(words)
        at = np.minimum(np.searchsorted(self._hashes, wanted), len(self._hashes) - 1)
        return np.where(self._hashes[at] == wanted, self._index[at].astype(np.int32), -1)

    def zipf(self, words: list[str]) -> list[float]:
        """The Zipf frequency of each word exactly as listed (0.0 when not listed)."""
        buckets = self._buckets(words)
        return np.where(buckets >= 0, self._zipf[np.maximum(buckets, 0)], 0.0).tolist()

    def frequency(self, word: str) -> float | None:
        """The word's frequency exactly as listed, None when not listed."""
        bucket = int(self._buckets([word])[0])
        return float(self._frequency[bucket]) if bucket >= 0 else None


_LOG = logging.getLogger(__name__)
# Part of a cached table's name: a new wordfreq may bring new lists, and a change here to how a table
# is hashed or laid out must not read an old file.
_FORMAT = f"wordfreq-{version('wordfreq')}-best-fnv1a-1"
_cache: Path | None = None


def use_cache(directory: str | None) -> None:
    """Keep the tables this process builds in ``directory`` (made when missing) and read them from there
    when a file is already there; None: build every table from wordfreq's lists.

    Only where a table comes from changes: a cached table is the table (checked in the tests)."""
    global _cache
    _cache = Path(directory).expanduser() if directory else None


@lru_cache(maxsize=None)
def frequency_table(language: str) -> FrequencyTable:
    """The table of ``language``, once per process: from the cache folder when it holds it, else built
    (wordfreq's list read around its own cache) and written there for the next process.

    Asked for on a language's first document, not when the stage is set up: only the documents tell
    which of wordfreq's 40-odd languages a worker needs, and each table held costs memory."""
    path = None if _cache is None else _cache / f"{language}-{_FORMAT}.npz"
    if path is not None and path.exists():
        try:
            return FrequencyTable.load(path)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            _LOG.warning("frequency table %s unreadable (%s: %s); building it again", path,
                         type(error).__name__, error)
    table = FrequencyTable.build(get_frequency_list.__wrapped__(language, "best"))
    if path is not None:
        try:
            table.save(path)
        except OSError as error:  # a read-only or full disk costs the next run the build, not this one
            _LOG.warning("frequency table for %s not cached in %s: %s", language, _cache, error)
    return table


def zipf_frequency(word: str, language: str) -> float:
    """``wordfreq.zipf_frequency(word, language)``: the word normalised and tokenised as wordfreq does,
    the tokens' frequencies combined (1/f = 1/f1 + 1/f2 ...), digits as wordfreq estimates them."""
    tokens = lossy_tokenize(word, language)
    if not tokens:
        return 0.0
    table = frequency_table(language)
    one_over = 0.0
    for token in tokens:
        smashed = smash_numbers(token)
        frequency = table.frequency(smashed)
        if frequency is None:
            return 0.0
        if smashed != token:
            frequency *= digit_freq(token)
        one_over += 1.0 / frequency
    frequency = 1.0 / one_over
    if get_language_info(language)["tokenizer"] == "jieba":
        frequency *= INFERRED_SPACE_FACTOR ** -(len(tokens) - 1)
    # wordfreq's floor (Zipf 0) and rounding: three significant digits of the frequency, then two
    # decimals of the Zipf value.
    frequency = max(frequency, _FLOOR)
    frequency = round(frequency, math.floor(-math.log(frequency, 10)) + 3)
    return round(freq_to_zipf(frequency), 2)


# Answers kept per language, cleared when full as wordfreq clears its own: the common words of a
# language recur in every text, and a dict lookup is a tenth of hashing a word for the table.
_ANSWERS_PER_LANGUAGE = 1 << 15
_ANSWERS: dict[str, dict[str, float]] = {}


def zipf_frequencies(words: list[str], language: str) -> list[float]:
    """:func:`zipf_frequency` of each word; plain lowercase words straight from the table, in one lookup."""
    answers = _ANSWERS.setdefault(language, {})
    new = sorted({word for word in words if word not in answers})
    if new:
        plain = [word for word in new if word.isascii() and word.isalpha() and word.islower()]
        found = dict(zip(plain, frequency_table(language).zipf(plain)))
        if len(answers) + len(new) > _ANSWERS_PER_LANGUAGE:
            answers.clear()
        answers.update((word, found[word] if word in found else zipf_frequency(word, language)) for word in new)
    return [answers[word] for word in words]
