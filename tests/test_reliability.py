"""Reliability: a corpus of bad and odd inputs, injected faults, and what each input becomes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.io.filesystem import FileMetadata
from apache_beam.io.fileio import ReadableFile
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import READ_CONFIG, SEEDS, local_pipeline, read_outputs, run_cli
from transforms.document import Document
from transforms.errors import REASONS
from transforms.read import _ReadFn
from transforms.stage import DOCS, REJECTED, DocumentStage

ONE_WORKER = ("--direct_num_workers=1", "--direct_running_mode=in_memory")
NEWS = ("Le ministre a déclaré mercredi à Genève que les négociations reprendraient «dès que possible». "
        "Les délégations française et allemande ont salué l’accord, signé après trois jours de discussions.\n")
ENGLISH = (SEEDS / "003_36e34dcb6d54f232.txt").read_text("utf-8")


def _bad_corpus(folder: Path) -> dict[str, tuple[str, str | None]]:
    """Write the bad-input corpus; return file name -> (expected outcome, reason or None)."""
    files: dict[str, tuple[bytes, str, str | None]] = {
        "empty.txt": (b"", "rejected", "empty"),
        "whitespace.txt": (b" \t\n\r\n  \n", "rejected", "empty"),
        "nul.txt": (b"News text\x00with NUL bytes\x00inside it and more words", "rejected", "binary"),
        "photo.jpg.txt": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(300), "rejected", "binary"),
        "paper.pdf": (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n", "rejected", "binary"),
        "invalid-utf8.txt": (bytes(range(0x80, 0x100)) * 3, "rejected", "undecodable"),
        "utf16-bom.txt": (ENGLISH.encode("utf-16"), "record", None),
        "utf16-nobom.txt": (ENGLISH.encode("utf-16-le"), "record", None),
        "latin1.txt": (NEWS.replace("’", "'").encode("latin-1"), "record", None),
        "cp1252.txt": (NEWS.encode("cp1252"), "record", None),
        "mixed-endings.txt": (ENGLISH.replace("\n\n", "\r\n\r\n", 3).replace("\n\n", "\r\r", 3).encode(), "record", None),
        "oversized.txt": (b"word " * 1_100_000, "rejected", "too_large"),
        "truncated.txt.gz": (gzip.compress(ENGLISH.encode())[:60], "rejected", "corrupt_gzip"),
        "zero.txt.gz": (b"", "rejected", "empty"),
        "notgzip.txt.gz": (b"this is not gzip data at all", "rejected", "corrupt_gzip"),
        "good.txt.gz": (gzip.compress(ENGLISH.replace("Beijing", "Peking").encode()), "record", None),
    }
    expected = {}
    for name, (data, outcome, reason) in files.items():
        (folder / name).write_bytes(data)
        expected[name] = (outcome, reason)
    return expected


def test_reliability_bad_input_corpus_each_input_ends_once_with_a_precise_reason(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    expected = _bad_corpus(folder)
    out = tmp_path / "out"
    assert run_cli(str(folder / "*"), out, *ONE_WORKER) == 0
    result = read_outputs(out)
    outcomes: dict[str, list[tuple[str, str | None]]] = {}
    for record in result["records"]:
        outcomes.setdefault(Path(record["source"]).name, []).append(("record", None))
    for rejection in result["rejected"]:
        assert rejection["reason"] in REASONS and rejection["stage"] and rejection["detail"]
        outcomes.setdefault(Path(rejection["source"]).name, []).append(("rejected", rejection["reason"]))
    assert outcomes == {name: [outcome] for name, outcome in expected.items()}
    encodings = {Path(r["source"]).name: r["encoding"] for r in result["records"]}
    assert encodings["utf16-bom.txt"] == "utf-16" and encodings["utf16-nobom.txt"] == "utf-16-le"
    assert encodings["latin1.txt"] != "utf-8" and encodings["cp1252.txt"] != "utf-8"
    texts = {Path(r["source"]).name: r["text"] for r in result["records"]}
    assert "négociations" in texts["cp1252.txt"] and "l’accord" in texts["cp1252.txt"]
    assert "\r" not in texts["mixed-endings.txt"]
    summary = result["summary"]
    assert summary["documents_in"] == len(expected) == summary["records"] + summary["rejected"]


def test_reliability_unreadable_and_vanished_files_are_rejected_as_unreadable(tmp_path):
    vanished = tmp_path / "gone.txt"
    vanished.write_text(ENGLISH)
    metadata = FileMetadata(str(vanished), vanished.stat().st_size)
    vanished.unlink()  # matched, then gone before reading

    class _Forbidden(ReadableFile):
        def open(self, *args, **kwargs):
            raise PermissionError(13, "Permission denied")

    forbidden = _Forbidden(FileMetadata(str(tmp_path / "secret.txt"), 10))
    fn = _ReadFn(READ_CONFIG)
    outputs = [output for readable in (ReadableFile(metadata), forbidden) for output in fn.process(readable)]
    assert {output.tag for output in outputs} == {REJECTED}
    results = [output.value for output in outputs]
    assert [(Path(r.source).name, r.reason) for r in results] == [("gone.txt", "unreadable"), ("secret.txt", "unreadable")]
    assert "Permission denied" in results[1].detail


def _explode_on_beijing(config):
    def stage(doc: Document) -> Document:
        if "Beijing" in doc.text:
            raise RuntimeError("injected fault")
        return doc
    return stage


def test_reliability_a_failing_stage_rejects_that_document_and_the_run_goes_on():
    docs = [Document.from_raw(f"s{i}.txt", text) for i, text in enumerate(["Talks in Beijing.", "Talks in Moscow."])]
    with local_pipeline() as p:
        out = p | beam.Create(docs) | DocumentStage("faulty", _explode_on_beijing, {})
        assert_that(out[DOCS] | beam.Map(lambda d: d.source), equal_to(["s1.txt"]), label="CheckKept")
        assert_that(out[REJECTED] | beam.Map(lambda r: (r.source, r.stage, r.reason, r.detail)),
                    equal_to([("s0.txt", "faulty", "exception", "RuntimeError: injected fault")]),
                    label="CheckRejected")


PATHOLOGICAL = {
    "no-spaces.txt": "x" * 100_000,
    "tiny-lines.txt": "\n".join(f"w{i % 10}" for i in range(50_000)),
    "punctuation.txt": "!?.,;:—…()[]{}" * 200,
    "arabic.txt": ("وقعت روسيا والصين اتفاقيات تعاون اقتصادي خلال زيارة رئيس الوزراء الروسي إلى بكين. " * 12),
    "chinese.txt": ("俄罗斯总理米舒斯京访问北京，与中国领导人会谈，双方签署多项合作协议。" * 20),
    "emoji.txt": ("Leaders met in Beijing on Wednesday 🤝🇨🇳🇷🇺 and signed trade deals, officials said. " * 10),
    "zero-width.txt": ENGLISH.replace(" ", " \u200b", 40).replace("China", "Chi\u200dna"),
}


def test_reliability_pathological_text_finishes_with_one_outcome_each(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in PATHOLOGICAL.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "one-line-10mb.txt").write_text("word " * 2_100_000, encoding="utf-8")
    # A feed's metadata is whatever its scraper wrote: a URL urllib cannot split, one without a scheme.
    feed = [{"text": ENGLISH, "url": "http://[2001:db8::1/news/1", "published": "Tue, 03 May 2024"},
            {"text": NEWS * 3, "url": "lemonde.fr/international", "id": 7}]
    (folder / "odd-metadata.jsonl").write_text("".join(json.dumps(line) + "\n" for line in feed), encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli(str(folder / "*"), out, *ONE_WORKER) == 0
    result = read_outputs(out)
    outcomes = {Path(r["source"]).name: "record" for r in result["records"]}
    for rejection in result["rejected"]:
        assert rejection["reason"] in REASONS
        outcomes[Path(rejection["source"]).name] = f"{rejection['stage']}:{rejection['reason']}"
    assert len(result["records"]) + len(result["rejected"]) == len(PATHOLOGICAL) + 1 + len(feed)
    assert outcomes == {
        "no-spaces.txt": "record",
        "tiny-lines.txt": "record",
        "punctuation.txt": "record",
        "arabic.txt": "record",
        "chinese.txt": "record",
        "emoji.txt": "record",
        "zero-width.txt": "record",
        "one-line-10mb.txt": "read:too_large",
        "odd-metadata.jsonl:1": "record",
        "odd-metadata.jsonl:2": "record",
    }
    by_name = {Path(r["source"]).name: r for r in result["records"]}
    assert by_name["arabic.txt"]["language"] == "ar" and by_name["arabic.txt"]["ner"] == "skipped:language=ar"
    assert by_name["chinese.txt"]["language"].startswith("zh")
    assert by_name["zero-width.txt"]["language"] == "en"
    assert by_name["punctuation.txt"]["language"] == "und"
    assert len(by_name["no-spaces.txt"]["text"]) == 100_000


def test_reliability_user_rule_pack_with_a_bad_regex_is_refused_at_start_naming_the_rule(tmp_path):
    from pipeline.config import load_config
    from transforms.errors import ConfigError

    for pattern, fragment in (("^(a+)+$", "backtracks catastrophically"), ("^(unclosed", "invalid regular expression")):
        pack = tmp_path / "my-rules.yaml"
        pack.write_text("packs:\n  - id: mine\n    exact: [sponsored]\n    patterns:\n"
                        f"      - id: my_rule\n        pattern: '{pattern}'\n")
        config = tmp_path / "config.yaml"
        config.write_text(f"boilerplate:\n  rules_file: {pack}\n")
        with pytest.raises(ConfigError) as error:
            load_config(config)
        assert "my_rule" in str(error.value) and fragment in str(error.value)


def test_reliability_a_run_opens_no_network_connection(tmp_path, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[1:]!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert run_cli(str(SEEDS / "00[01]_*.txt"), tmp_path / "out", *ONE_WORKER) == 0
    assert len(read_outputs(tmp_path / "out")["records"]) == 2
