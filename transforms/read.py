"""Reading: whole files (plain, .gz, .jsonl) into documents, refusing what is not news text.

Pure functions decode bytes and split JSONL; :class:`ReadDocuments` matches files with
``fileio`` (local paths and every filesystem Beam supports), spreads them over workers and reads
each in a DoFn whose failures become rejected entries.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import zlib
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO, Callable, ContextManager, Iterator, Mapping, Sequence

import apache_beam as beam
import orjson
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.metrics import Metrics
from apache_beam.pvalue import TaggedOutput
from charset_normalizer import from_bytes

from transforms.document import Document, Rejection
from transforms.errors import ConfigError, Reject
from transforms.stage import DOCS, REJECTED

STAGE = "read"

# Signatures of common binary formats that a scrape folder collects by accident.
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x1f\x8b", b"BM",
                 b"RIFF", b"\x7fELF", b"II*\x00", b"MM\x00*", b"OggS", b"ID3", b"\x00\x00\x01\x00")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM shows as NULs in every other byte of ASCII-range text."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0) / len(sample[0::2])
    odd_nuls = sample[1::2].count(0) / len(sample[1::2])
    if odd_nuls > 0.3 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.3 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def decode(data: bytes, legacy_threshold: float = 0.2) -> tuple[str, str]:
    """Decode file bytes to text, returning ``(text, encoding)``; refuse binary or undecodable bytes.

    UTF-8 (with or without BOM) and BOM-marked UTF-16/32 come first; bytes that are not UTF-8 are
    handed to charset-normalizer, whose guess is accepted only when its chaos (mess) ratio is low.
    """
    if not data.strip():
        raise Reject("empty", f"{len(data)} bytes, no text")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _no_nul(data.decode(encoding)), encoding.removesuffix("-sig")
            except UnicodeDecodeError as error:
                raise Reject("undecodable", f"{encoding} BOM but {error.reason} at byte {error.start}") from None
    if data.startswith(_BINARY_MAGIC):
        raise Reject("binary", f"file signature {data[:8]!r}")
    utf16 = _bomless_utf16(data)
    if utf16 is not None:
        try:
            return _no_nul(data.decode(utf16)), utf16
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:65536]:
        raise Reject("binary", "NUL bytes")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        utf8_error = f"invalid UTF-8 ({error.reason}) at byte {error.start}"
    best = from_bytes(data[:262144]).best()
    if best is None or best.chaos > legacy_threshold:
        raise Reject("undecodable", utf8_error + "; no legacy encoding fits")
    try:
        return data.decode(best.encoding), best.encoding
    except (UnicodeDecodeError, LookupError):
        raise Reject("undecodable", utf8_error + f"; guessed {best.encoding} does not decode all bytes") from None


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise Reject("binary", "NUL characters in decoded text")
    return text


def _normalise_newlines(text: str) -> str:
    # CRLF and lone CR become LF so that line rules see one convention; raw offsets refer to this.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def is_jsonl(path: str, extensions: list[str]) -> bool:
    lowered = path.lower()
    return any(lowered.endswith(ext) for ext in extensions)


def documents_from_bytes(path: str, data: bytes, config: Mapping[str, Any]) -> Iterator[Document | Rejection]:
    """The document (or rejection) of one whole file's bytes (a JSONL feed is read by :func:`jsonl_documents`)."""
    try:
        text, encoding = decode(data, config["legacy_max_chaos"])
    except Reject as refusal:
        yield Rejection(path, STAGE, refusal.reason, refusal.detail)
        return
    yield Document.from_raw(path, _normalise_newlines(text), encoding)


def jsonl_documents(path: str, handle: BinaryIO, config: Mapping[str, Any]) -> Iterator[Document | Rejection]:
    """One document (or rejection) per line of a JSONL stream, read line by line (``read`` settings).

    ``max_bytes`` bounds each line, not the file: a feed of any size streams through one worker's
    memory a line at a time. JSON Lines is UTF-8 by definition, so each line is decoded as UTF-8."""
    max_bytes, fields = config["max_bytes"], config["jsonl_fields"]
    for number, line in enumerate(_bounded_lines(handle, max_bytes), start=1):
        source = f"{path}:{number}"
        if line is None:
            yield Rejection(source, STAGE, "too_large", f"JSONL line of more than {max_bytes} bytes (read.max_bytes)")
            continue
        if number == 1:
            line = line.removeprefix(codecs.BOM_UTF8)
        if not line.strip():
            continue
        if b"\x00" in line:
            yield Rejection(source, STAGE, "undecodable", "NUL bytes in a JSONL line (JSON Lines must be UTF-8)")
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            yield Rejection(source, STAGE, "undecodable", f"invalid UTF-8 ({error.reason}) at byte {error.start}")
            continue
        yield _jsonl_document(source, text, fields)


def _bounded_lines(handle: BinaryIO, max_bytes: int) -> Iterator[bytes | None]:
    """The stream's lines without their line ends; None for a line over ``max_bytes``, which is skipped
    without being held in memory."""
    while True:
        line = handle.readline(max_bytes + 2)
        if not line:
            return
        body = line.rstrip(b"\r\n")
        if len(body) <= max_bytes:
            yield body
            continue
        while line and not line.endswith(b"\n"):
            line = handle.readline(1 << 20)
        yield None


def _jsonl_document(source: str, line: str, fields: Mapping[str, str]) -> Document | Rejection:
    """One JSONL object as a document, its fields found under the keys ``fields`` names (``read.jsonl_fields``)."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        return Rejection(source, STAGE, "malformed_jsonl", str(error)[:200])
    if not isinstance(obj, dict):
        return Rejection(source, STAGE, "malformed_jsonl", f"a JSON {type(obj).__name__}, not an object")
    text = obj.get(fields["text"])
    if not isinstance(text, str) or not text.strip():
        return Rejection(source, STAGE, "missing_text", f"field {fields['text']!r} absent, empty or not a string")
    doc = Document.from_raw(source, _normalise_newlines(text), "utf-8")
    if obj.get(fields["id"]) is not None:
        doc.id = str(obj[fields["id"]])
    # A feed's own metadata wins over what the header stage would find in the text (see transforms/header.py).
    for name in ("url", "title", "published"):
        value = obj.get(fields[name])
        if isinstance(value, str) and value.strip():
            setattr(doc, name, " ".join(value.split()))
    if doc.published is not None:
        doc.published = feed_date(doc.published)
    return doc


def feed_date(value: str) -> str:
    """A feed's ``published`` in ISO 8601, as the header stage writes dates: records are ranked by it
    as text (the earliest is a cluster's canonical), which orders ISO dates only.

    A date stays ``YYYY-MM-DD``; a timestamp becomes ``YYYY-MM-DDTHH:MM:SS``, in UTC with a ``Z`` when
    it has an offset; an RFC 2822 date (RSS's "Tue, 03 May 2024 10:00:00 GMT") too. Any other value
    is kept as given.
    """
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        try:
            stamp = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return value
    if stamp.tzinfo is None:
        return stamp.isoformat(timespec="seconds")
    return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_limited(handle: Any, max_bytes: int) -> bytes:
    """Read at most ``max_bytes`` (+1 to detect overflow) so a huge or gz-bomb file cannot exhaust memory."""
    data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Reject("too_large", f"more than {max_bytes} bytes (read.max_bytes)")
    return data


def gunzip(data: bytes, max_bytes: int) -> bytes:
    """Decompress every gzip member, refusing truncated or corrupt data and output over ``max_bytes``."""
    out = bytearray()
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits=31)
        try:
            out += inflater.decompress(rest, max_bytes + 1 - len(out))
        except zlib.error as error:
            raise Reject("corrupt_gzip", str(error)) from None
        if len(out) > max_bytes or inflater.unconsumed_tail:
            raise Reject("too_large", f"decompresses to more than {max_bytes} bytes (read.max_bytes)")
        if not inflater.eof:
            raise Reject("corrupt_gzip", f"truncated after {len(data)} compressed bytes")
        rest = inflater.unused_data
    return bytes(out)


def read_file(path: str, open_file: Callable[[str], ContextManager[BinaryIO]], config: Mapping[str, Any],
              size: int | None = None) -> Iterator[Document | Rejection]:
    """The documents (or rejections) of the input file ``path``: what a run reads from it, and what
    the report reads again to show a record's original. ``open_file(compression_type)`` opens it
    (Beam's ``CompressionTypes``); ``size``, when known, refuses an oversized plain file unread."""
    max_bytes = config["max_bytes"]
    gzipped = path.lower().endswith(".gz")
    # .gz is decompressed here, not by Beam, whose reader returns a truncated stream's prefix
    # without an error; other compressions (.bz2, .zst, ...) are Beam's.
    kind = CompressionTypes.UNCOMPRESSED if gzipped else CompressionTypes.AUTO
    try:
        if is_jsonl(path, config["jsonl_extensions"]):
            # Streamed: read.max_bytes bounds each line, and the file may be of any size.
            with open_file(kind) as raw, \
                    (gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else contextlib.nullcontext(raw)) as handle:
                yield from jsonl_documents(path, handle, config)
            return
        if not gzipped and size is not None and size > max_bytes:
            raise Reject("too_large", f"{size} bytes > {max_bytes} (read.max_bytes)")
        with open_file(kind) as handle:
            data = read_limited(handle, max_bytes)
        if gzipped:
            data = gunzip(data, max_bytes)
    except Reject as refusal:
        yield Rejection(path, STAGE, refusal.reason, refusal.detail)
        return
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        # Raised by a JSONL feed's gzip stream; the lines before the damage were already read.
        yield Rejection(path, STAGE, "corrupt_gzip", f"{type(error).__name__}: {error}")
        return
    except OSError as error:
        yield Rejection(path, STAGE, "unreadable", f"{type(error).__name__}: {error.strerror or error}")
        return
    yield from documents_from_bytes(path, data, config)


class _ReadFn(beam.DoFn):
    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = config
        self._read = Metrics.counter("newsbeam", "read.documents")

    def process(self, readable: fileio.ReadableFile):
        path = readable.metadata.path
        for item in read_file(path, lambda kind: readable.open(compression_type=kind), self._config,
                              readable.metadata.size_in_bytes):
            if isinstance(item, Rejection):
                yield TaggedOutput(REJECTED, item)
            else:
                self._read.inc()
                yield item


class ReadDocuments(beam.PTransform):
    """Match ``pattern``, read every file whole, and emit ``[DOCS]`` and ``[REJECTED]``.

    The files are redistributed before reading so that all workers share the work, and the
    documents after reading, so that one large JSONL file does not stay on one worker: by ``spread``
    when given (a batch run spills them to files, see :mod:`transforms.spill`), else by a ``Reshuffle``.

    With ``streaming`` (the config's ``streaming`` section) the glob is polled every
    ``poll_seconds`` instead (``fileio.MatchContinuously``: each path is read once, stamped with
    the time of the poll that found it), and the files, so both outputs, go into fixed windows of
    ``window_seconds``: every aggregate downstream is then per window.
    """

    def __init__(self, pattern: str | Sequence[str], config: Mapping[str, Any],
                 streaming: Mapping[str, Any] | None = None, spread: beam.PTransform | None = None) -> None:
        super().__init__()
        self._spread = spread if spread is not None else beam.Reshuffle()
        # A list of patterns (or exact paths) is how incremental runs read only the new files.
        self._patterns = [pattern] if isinstance(pattern, str) else list(pattern)
        self._config = config
        self._streaming = streaming
        if streaming is not None and len(self._patterns) != 1:
            raise ValueError("a streaming read polls exactly one glob")

    def expand(self, pbegin):
        if self._streaming is None:
            files = pbegin | "MatchFiles" >> (beam.Create(self._patterns)
                                              | fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW_IF_WILDCARD))
        else:
            files = (pbegin
                     | "MatchContinuously" >> fileio.MatchContinuously(
                         self._patterns[0], interval=float(self._streaming["poll_seconds"]))
                     | "WindowFiles" >> beam.WindowInto(beam.window.FixedWindows(self._streaming["window_seconds"])))
        outputs = (
            files
            | "SpreadFiles" >> beam.Reshuffle()
            | "OpenFiles" >> fileio.ReadMatches()
            | "ReadFiles" >> beam.ParDo(_ReadFn(self._config)).with_outputs(REJECTED, main=DOCS))
        docs = outputs[DOCS] | "SpreadDocuments" >> self._spread
        return {DOCS: docs, REJECTED: outputs[REJECTED]}


def check_config(config: Mapping[str, Any]) -> None:
    section = config["read"]
    if section["max_bytes"] < 1:
        raise ConfigError("read.max_bytes", "must be a positive number of bytes")
    streaming = config["streaming"]
    if streaming["window_seconds"] < streaming["poll_seconds"]:
        raise ConfigError("streaming.window_seconds",
                          f"must be at least streaming.poll_seconds ({streaming['poll_seconds']})")
