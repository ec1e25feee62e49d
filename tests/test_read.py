import codecs
import gzip
import io

import apache_beam as beam
import orjson
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipeline.report import read_settings
from tests.conftest import local_pipeline
from transforms.dedup import rank
from transforms.errors import Reject
from transforms.read import ReadDocuments, decode, documents_from_bytes, jsonl_documents
from transforms.stage import DOCS, REJECTED

CONFIG = {**read_settings(None), "max_bytes": 1000, "jsonl_extensions": [".jsonl", ".jsonl.gz"]}
NEWS = "Russia and China agreed to deepen investment in trade services, said the minister in Beijing."


@pytest.mark.parametrize("data, encoding", [
    (NEWS.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + NEWS.encode("utf-8"), "utf-8"),
    (NEWS.encode("utf-16"), "utf-16"),
    (NEWS.encode("utf-16-le"), "utf-16-le"),
    (NEWS.encode("utf-16-be"), "utf-16-be"),
])
def test_read_decodes_unicode_forms(data, encoding):
    assert decode(data) == (NEWS, encoding)



def feed(path: str, data: bytes, config=CONFIG) -> list:
    """The documents and rejections of a JSONL feed's bytes, as the reader streams them."""
    return list(jsonl_documents(path, io.BytesIO(data), config))

def test_read_decodes_windows_1252_news_and_says_so():
    text = "Le président français a rencontré «ses homologues» à Genève – l’accord était signé."
    decoded, encoding = decode(text.encode("cp1252"))
    assert decoded == text
    assert encoding in {"cp1252", "windows-1252", "latin_1", "iso8859_15", "cp1250"}


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"  \n\t \n", "empty"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"text with a NUL\x00 in the middle of it and more", "binary"),
    (bytes(range(128, 256)) * 8, "undecodable"),
])
def test_read_refuses_what_is_not_text(data, reason):
    with pytest.raises(Reject) as refusal:
        decode(data)
    assert refusal.value.reason == reason


def test_read_jsonl_gives_one_document_per_line_and_rejects_bad_lines():
    data = b'{"text": "First story.", "id": "a1", "url": "https://example.com/a"}\n' \
           b'not json\n' \
           b'{"title": "no text"}\n' \
           b'\n' \
           b'{"text": "Second story.", "published": "2023-05-24"}\n'
    items = list(feed("feed.jsonl", data, CONFIG))
    assert [type(item).__name__ for item in items] == ["Document", "Rejection", "Rejection", "Document"]
    assert items[0].id == "a1" and items[0].url == "https://example.com/a" and items[0].source == "feed.jsonl:1"
    assert (items[1].source, items[1].reason) == ("feed.jsonl:2", "malformed_jsonl")
    assert (items[2].source, items[2].reason) == ("feed.jsonl:3", "missing_text")
    assert items[3].published == "2023-05-24" and items[3].source == "feed.jsonl:5"


def test_read_jsonl_takes_each_field_under_its_configured_key():
    # A news dump that names its fields its own way (body, headline, date, link, uid).
    fields = {"text": "body", "id": "uid", "url": "link", "title": "headline", "published": "date"}
    data = (b'{"uid": 7, "headline": "  Putin meets\\n Xi in Moscow ", "date": "2023-03-21",'
            b' "link": "https://example.com/p", "body": "Putin and Xi met in Moscow on Tuesday."}\n'
            b'{"text": "A body under the default key only.", "headline": ""}\n')
    doc, missing = feed("dump.jsonl", data, {**CONFIG, "jsonl_fields": fields})
    assert (doc.id, doc.title, doc.published, doc.url) == ("7", "Putin meets Xi in Moscow", "2023-03-21",
                                                           "https://example.com/p")
    assert doc.text == "Putin and Xi met in Moscow on Tuesday."
    assert (missing.source, missing.reason, missing.detail) == (
        "dump.jsonl:2", "missing_text", "field 'body' absent, empty or not a string")


@pytest.mark.parametrize("published, expected", [
    ("2023-05-24", "2023-05-24"),
    ("2023-05-24T09:30:00Z", "2023-05-24T09:30:00Z"),
    ("2023-05-23 22:30:00-05:00", "2023-05-24T03:30:00Z"),  # the next day in UTC
    ("Wed, 24 May 2023 09:30:00 GMT", "2023-05-24T09:30:00Z"),  # RSS pubDate
    ("Wed, 24 May 2023 11:30:00 +0200", "2023-05-24T09:30:00Z"),
    ("2023-05-24T09:30:00", "2023-05-24T09:30:00"),
    ("24/05/2023", "24/05/2023"),  # day or month first: not guessed
])
def test_read_jsonl_published_dates_become_iso_8601(published, expected):
    line = orjson.dumps({"text": "Putin and Xi met in Moscow on Tuesday.", "published": published})
    [doc] = feed("feed.jsonl", line + b"\n", CONFIG)
    assert doc.published == expected


def test_read_jsonl_published_dates_rank_records_in_time_order():
    # Ranked as text, as the relations rank them: an RSS date sorted after every ISO one before.
    stamps = ["Wed, 24 May 2023 09:30:00 GMT", "2023-05-24T08:00:00Z", "2023-05-23 23:00:00-05:00"]
    lines = b"".join(orjson.dumps({"text": f"Story {n} about the talks.", "published": s}) + b"\n"
                     for n, s in enumerate(stamps))
    docs = list(feed("feed.jsonl", lines, CONFIG))
    assert [doc.source for doc in sorted(docs, key=rank)] == ["feed.jsonl:3", "feed.jsonl:2", "feed.jsonl:1"]


def test_read_normalises_crlf_and_lone_cr():
    [doc] = documents_from_bytes("a.txt", b"one\r\ntwo\rthree\n", CONFIG)
    assert doc.text == "one\ntwo\nthree\n"


def test_read_document_ids_are_stable_and_depend_on_source_and_content():
    [a] = documents_from_bytes("a.txt", NEWS.encode(), CONFIG)
    [again] = documents_from_bytes("a.txt", NEWS.encode(), CONFIG)
    [b] = documents_from_bytes("b.txt", NEWS.encode(), CONFIG)
    assert a.id == again.id != b.id


def test_read_transform_reads_plain_gz_and_rejects_bad_files(tmp_path):
    (tmp_path / "story.txt").write_text(NEWS, encoding="utf-8")
    (tmp_path / "story2.txt.gz").write_bytes(gzip.compress(NEWS.replace("Beijing", "Moscow").encode()))
    (tmp_path / "broken.txt.gz").write_bytes(gzip.compress(NEWS.encode())[:20])
    (tmp_path / "big.txt").write_bytes(b"word " * 400)
    (tmp_path / "empty.txt").write_bytes(b"")
    with local_pipeline() as p:
        out = p | ReadDocuments(str(tmp_path / "*"), CONFIG)
        assert_that(out[DOCS] | beam.Map(lambda d: d.text), equal_to([NEWS, NEWS.replace("Beijing", "Moscow")]),
                    label="CheckDocs")
        assert_that(out[REJECTED] | beam.Map(lambda r: (r.source.rsplit("/", 1)[1], r.stage, r.reason)),
                    equal_to([("broken.txt.gz", "read", "corrupt_gzip"), ("big.txt", "read", "too_large"),
                              ("empty.txt", "read", "empty")]), label="CheckRejected")


def test_read_streams_a_jsonl_feed_larger_than_the_file_limit(tmp_path):
    # read.max_bytes bounds each line: a 3 kB feed of small records is read whole, an over-long
    # line is one rejection, and a feed whose gzip stream breaks keeps the lines before the damage.
    line = b'{"text": "%s"}\n' % NEWS.encode()
    feed = line * 25 + b'{"text": "' + b"x" * 2000 + b'"}\n' + line
    (tmp_path / "feed.jsonl").write_bytes(feed)
    packed = gzip.compress(b"".join(b'{"text": "%s %d"}\n' % (NEWS.encode(), n) for n in range(200)))
    (tmp_path / "broken.jsonl.gz").write_bytes(packed[:len(packed) // 2])
    with local_pipeline() as p:
        out = p | ReadDocuments(str(tmp_path / "*"), CONFIG)
        assert_that(out[DOCS] | beam.Map(lambda d: d.source.rsplit("/", 1)[1])
                    | beam.Filter(lambda name: name.startswith("feed.jsonl:")) | beam.Map(lambda name: name[11:]),
                    equal_to([str(n) for n in [*range(1, 26), 27]]), label="CheckFeed")
        assert_that(out[REJECTED] | beam.Map(lambda r: (r.source.rsplit("/", 1)[1], r.reason)),
                    equal_to([("feed.jsonl:26", "too_large"), ("broken.jsonl.gz", "corrupt_gzip")]),
                    label="CheckRejected")


def test_read_jsonl_lines_must_be_utf8():
    data = b'{"text": "caf\xe9 story"}\n' + '{"text": "Neue Geschichte"}'.encode("utf-16-le")
    items = list(feed("feed.jsonl", data, CONFIG))
    assert [(item.source, getattr(item, "reason", None)) for item in items] == [
        ("feed.jsonl:1", "undecodable"), ("feed.jsonl:2", "undecodable")]
