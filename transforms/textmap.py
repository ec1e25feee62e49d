"""Offsets from the current text back to the raw decoded file, kept through every edit.

Each cleaning or repair step rewrites the text through :func:`apply_edits`, which composes the
offset map, so an entity found in the final text can be located in the original file. Written by
hand because no text library tracks offsets through arbitrary replace/delete edits.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Iterable, NamedTuple


class Edit(NamedTuple):
    """Replace ``text[start:end]`` by ``replacement``."""

    start: int
    end: int
    replacement: str


@dataclass(slots=True)
class TextMap:
    """Piecewise map from positions of a derived text to positions of the raw text.

    ``segments`` are ``(t0, t1, r0, r1, linear)`` tuples that tile ``[0, len(text))``; a linear
    segment is copied text (position ``t`` maps to ``r0 + t - t0``), a non-linear one is a
    replacement, any position inside it maps to the whole raw extent ``[r0, r1)``.
    """

    segments: list[tuple[int, int, int, int, bool]] = field(default_factory=list)
    # Each segment's first position, for bisection; made when first needed (apply_edits only
    # walks the segments, in text order).
    _starts: list[int] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def identity(cls, length: int) -> "TextMap":
        return cls([(0, length, 0, length, True)] if length else [])

    def _index(self, pos: int, hint: int | None = None) -> int:
        """Index of the segment holding ``pos`` (the last one for a position at or past the end).

        From ``hint``, a segment at or before it, the walk steps on: :func:`apply_edits` asks in
        text order, and the next answer is a segment or two further, where a bisection is a call
        and a dozen comparisons. Without one, or when ``pos`` lies before it, the segments are bisected.
        """
        segments = self.segments
        if hint is None or segments[hint][0] > pos:
            if self._starts is None:
                self._starts = [segment[0] for segment in segments]
            return max(0, bisect.bisect_right(self._starts, pos) - 1)
        last = len(segments) - 1
        while hint < last and segments[hint][1] <= pos:
            hint += 1
        return hint

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Raw extent of ``text[start:end]``; a span touching a replacement widens to it."""
        return self._span(start, end, None)[0]

    def _span(self, start: int, end: int, i: int | None) -> tuple[tuple[int, int], int]:
        """:meth:`raw_span` looked up from segment ``i`` on, and the segment it ended in."""
        segments = self.segments
        if not segments:
            return (0, 0), 0
        i = self._index(start, i)
        t0, _, r0, r1, linear = segments[i]
        left = r0 + min(max(start - t0, 0), r1 - r0) if linear else r0
        if end <= start:
            return (left, left), i
        i = self._index(end - 1, i)
        t0, _, r0, r1, linear = segments[i]
        return (left, min(r0 + min(max(end - 1 - t0, 0), r1 - r0) + 1, r1) if linear else r1), i


def _copy(segments: list, i: int, start: int, end: int, delta: int, out: list) -> int:
    """Append to ``out`` the segments covering ``[start, end)``, moved by ``delta``, walking from
    segment ``i`` (at or before ``start``); return the index of the segment holding ``end - 1``."""
    while True:
        t0, t1, r0, r1, linear = segments[i]
        a, b = max(t0, start), min(t1, end)
        if a < b:
            if linear:
                out.append((a + delta, b + delta, r0 + a - t0, r0 + b - t0, True))
            else:
                out.append((a + delta, b + delta, r0, r1, False))
        if t1 >= end:
            return i
        i += 1


def apply_edits(text: str, edits: Iterable[Edit],
                tmap: TextMap) -> tuple[str, TextMap, list[int], list[tuple[int, int]]]:
    """Apply non-overlapping edits; return the new text, its composed map, each edit's new start
    and the raw extent of what each edit replaced (as :meth:`TextMap.raw_span` before the edit).

    Edits may come in any order; they are applied by position, in one walk over the map's
    segments. Overlapping edits raise ``ValueError`` because their result would depend on order.
    """
    ordered = sorted(enumerate(edits), key=lambda item: (item[1].start, item[1].end))
    pieces: list[str] = []
    segments: list[tuple[int, int, int, int, bool]] = []
    new_starts = [0] * len(ordered)
    raws = [(0, 0)] * len(ordered)
    cursor = 0
    length = 0
    at = 0  # a segment of the map at or before cursor: edits come in text order, so the walk only goes on
    old = tmap.segments
    for index, edit in ordered:
        start, end, replacement = edit
        if start < cursor or end < start or end > len(text):
            raise ValueError(f"overlapping or out-of-range edit {edit!r}")
        # Most edits (a removed line among a page's kept ones) lie, with the text before them, in
        # one copied segment: that case is answered here, the rest by the general walk.
        t0, t1, r0, _, linear = old[at] if old else (0, 0, 0, 0, False)
        if start > cursor:
            pieces.append(text[cursor:start])
            if linear and t0 <= cursor and start <= t1:
                segments.append((length, length + start - cursor, r0 + cursor - t0, r0 + start - t0, True))
            else:
                at = _copy(old, at, cursor, start, length - cursor, segments)
            length += start - cursor
        new_starts[index] = length
        if linear and t0 <= start < end <= t1:
            raws[index] = (r0 + start - t0, r0 + end - t0)
        elif old:
            raws[index], at = tmap._span(start, end, at)
        if replacement:
            pieces.append(replacement)
            segments.append((length, length + len(replacement), *raws[index], False))
            length += len(replacement)
        cursor = end
    if cursor < len(text):
        pieces.append(text[cursor:])
        _copy(old, at, cursor, len(text), length - cursor, segments)
    return "".join(pieces), TextMap(segments), new_starts, raws


def shift(position: int, edits: Iterable[Edit]) -> int:
    """Where ``position`` of the old text lands after ``edits`` (for offsets recorded earlier)."""
    delta = 0
    for edit in edits:
        if edit.end <= position:
            delta += len(edit.replacement) - (edit.end - edit.start)
    return position + delta
