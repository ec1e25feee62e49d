"""One catalogue of the reasons a document is rejected and of configuration errors.

Every rejected entry carries one of ``REASONS``'s codes, so users can count and filter them; every
configuration error names the offending key and says what to do.
"""

from __future__ import annotations

REASONS: dict[str, str] = {
    "empty": "The input holds no text (zero bytes or only white space).",
    "binary": "The input is binary (NUL bytes or a known binary signature), not text.",
    "too_large": "The input is larger than read.max_bytes; raise the limit or split the file.",
    "undecodable": "The bytes are not valid in UTF-8, UTF-16 or any detected legacy encoding.",
    "corrupt_gzip": "The .gz file is truncated or corrupt and cannot be decompressed.",
    "unreadable": "The file could not be opened or read (permissions, vanished, I/O error).",
    "malformed_jsonl": "A line of a .jsonl input is not a JSON object.",
    "missing_text": "A .jsonl record has no non-empty string field 'text'.",
    "no_body": "Cleaning removed every line: nothing of the document is article text.",
    "exception": "A stage raised an unexpected error on this document (see detail); the run went on.",
}


class Reject(Exception):
    """Raised by a pure stage function to refuse a document with a catalogued reason."""

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise KeyError(f"unknown rejection reason {reason!r}")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ConfigError(ValueError):
    """A bad setting; the message names the key (dotted path) and what is expected."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"config error at '{key}': {message}")
        self.key = key
