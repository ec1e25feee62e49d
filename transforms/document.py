"""The one record type that flows through every stage, and its one serialisation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from transforms.textmap import Edit, TextMap, apply_edits

# Field order of an output record; the JSON Schema in configs/record.schema.json documents each.
RECORD_FIELDS = (
    "id", "source", "url", "encoding", "title", "published", "dateline", "byline", "credits", "language",
    "language_score", "language_spans", "text", "removed", "repairs", "mt_suspect", "mt_evidence",
    "entities", "ner", "duplicate_of", "duplicate_score", "rewrite_of", "rewrite_score", "story_id",
    "pipeline",
)


def document_id(source: str, raw: str) -> str:
    """Stable id from the source path and the decoded content: identical on every run."""
    digest = hashlib.sha256()
    digest.update(source.encode("utf-8", "surrogatepass"))
    digest.update(b"\0")
    digest.update(raw.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


def text_key(text: str) -> bytes:
    """A 128-bit digest of a text: equal for identical texts (what a step that reads only the text
    may remember its result by)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass(slots=True)
class Document:
    """A news document on its way through the pipeline.

    ``text`` is the current body; ``tmap`` maps its positions back to the decoded input (the raw
    text), which is not carried: no stage reads it, and it would double every grouped or shipped
    document (the report reads it again from the source). Every change to ``text`` goes through
    :meth:`edit` so the map stays right.
    """

    id: str
    source: str
    text: str = ""
    tmap: TextMap = field(default_factory=TextMap)
    encoding: str = "utf-8"
    url: str | None = None
    title: str | None = None
    published: str | None = None
    dateline: str | None = None
    byline: str | None = None
    credits: list[str] = field(default_factory=list)
    language: str | None = None
    language_score: float | None = None
    language_spans: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    repairs: list[dict[str, Any]] = field(default_factory=list)
    mt_suspect: bool = False
    mt_evidence: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    ner: str | None = None
    duplicate_of: str | None = None
    duplicate_score: float | None = None
    rewrite_of: str | None = None
    rewrite_score: float | None = None
    story_id: str | None = None
    pipeline: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_raw(cls, source: str, raw: str, encoding: str = "utf-8", **fields: Any) -> "Document":
        return cls(id=document_id(source, raw), source=source, text=raw,
                   tmap=TextMap.identity(len(raw)), encoding=encoding, **fields)

    def edit(self, edits: list[Edit]) -> tuple[list[int], list[tuple[int, int]]]:
        """Apply edits to ``text`` (keeping the raw-offset map); return each edit's new start and
        the raw extent of the text it replaced."""
        if not edits:
            return [], []
        self.text, self.tmap, starts, raws = apply_edits(self.text, edits, self.tmap)
        return starts, raws

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        return self.tmap.raw_span(start, end)

    def to_record(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in RECORD_FIELDS}

    def to_json(self) -> bytes:
        """The output JSONL line (without newline): the only place records are serialised."""
        return orjson.dumps(self.to_record())


@dataclass(slots=True, frozen=True)
class Rejection:
    """An input that did not become a record: which stage refused it and why."""

    source: str
    stage: str
    reason: str
    detail: str = ""

    def to_json(self) -> bytes:
        return orjson.dumps({"source": self.source, "stage": self.stage, "reason": self.reason,
                             "detail": self.detail})
