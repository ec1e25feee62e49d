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
    _starts: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._starts = [segment[0] for segment in self.segments]

    @classmethod
    def identity(cls, length: int) -> "TextMap":
        return cls([(0, length, 0, length, True)] if length else [])

    def _index(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self._starts, pos) - 1)

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Raw extent of ``text[start:end]``; a span touching a replacement widens to it."""
        if not self.segments:
            return (0, 0)
        if end <= start:
            point = self._raw_point(start, left=True)
            return (point, point)
        return (self._raw_point(start, left=True), self._raw_point(end - 1, left=False))

    def _raw_point(self, pos: int, left: bool) -> int:
        t0, t1, r0, r1, linear = self.segments[self._index(pos)]
        if linear:
            offset = min(max(pos - t0, 0), r1 - r0)
            return r0 + offset if left else min(r0 + offset + 1, r1)
        return r0 if left else r1

    def slice(self, start: int, end: int, new_start: int) -> list[tuple[int, int, int, int, bool]]:
        """Segments covering ``[start, end)`` of the mapped text, re-based at ``new_start``."""
        out: list[tuple[int, int, int, int, bool]] = []
        if end <= start:
            return out
        i = self._index(start)
        while i < len(self.segments):
            t0, t1, r0, r1, linear = self.segments[i]
            if t0 >= end:
                break
            a, b = max(t0, start), min(t1, end)
            if a < b:
                if linear:
                    out.append((new_start + a - start, new_start + b - start, r0 + a - t0, r0 + b - t0, True))
                else:
                    out.append((new_start + a - start, new_start + b - start, r0, r1, False))
            i += 1
        return out


def apply_edits(text: str, edits: Iterable[Edit], tmap: TextMap) -> tuple[str, TextMap, list[int]]:
    """Apply non-overlapping edits; return the new text, its composed map and each edit's new start.

    Edits may come in any order; they are applied by position. Overlapping edits raise
    ``ValueError`` because their result would depend on order.
    """
    ordered = sorted(enumerate(edits), key=lambda item: (item[1].start, item[1].end))
    pieces: list[str] = []
    segments: list[tuple[int, int, int, int, bool]] = []
    new_starts = [0] * len(ordered)
    cursor = 0
    length = 0
    for index, edit in ordered:
        if edit.start < cursor or edit.end < edit.start or edit.end > len(text):
            raise ValueError(f"overlapping or out-of-range edit {edit!r}")
        if edit.start > cursor:
            pieces.append(text[cursor:edit.start])
            segments.extend(tmap.slice(cursor, edit.start, length))
            length += edit.start - cursor
        new_starts[index] = length
        if edit.replacement:
            raw = tmap.raw_span(edit.start, edit.end) if edit.end > edit.start else tmap.raw_span(edit.start, edit.start)
            pieces.append(edit.replacement)
            segments.append((length, length + len(edit.replacement), raw[0], raw[1], False))
            length += len(edit.replacement)
        cursor = edit.end
    if cursor < len(text):
        pieces.append(text[cursor:])
        segments.extend(tmap.slice(cursor, len(text), length))
    return "".join(pieces), TextMap(segments), new_starts


def shift(position: int, edits: Iterable[Edit]) -> int:
    """Where ``position`` of the old text lands after ``edits`` (for offsets recorded earlier)."""
    delta = 0
    for edit in edits:
        if edit.end <= position:
            delta += len(edit.replacement) - (edit.end - edit.start)
    return position + delta
