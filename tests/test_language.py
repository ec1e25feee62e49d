"""Language decisions: langdetect seeded, "und" for too little or unclear text, foreign paragraphs."""

from __future__ import annotations

import copy
import json

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to
from jsonschema import Draft202012Validator
from wordfreq import get_frequency_list, top_n_list

from pipeline.config import load_config
from tests.conftest import ROOT, SEEDS, local_pipeline
from transforms import language
from transforms.document import Document
from transforms.errors import ConfigError
from transforms.language import LanguageDetector, decide, iso639_1, letter_count
from transforms.stage import DOCS, REJECTED, DocumentStage
from transforms.textmap import Edit

ENGLISH = ("Russia and China agreed to deepen investment in trade services and promote agricultural "
           "exports, as the Russian prime minister signed a series of bilateral agreements in Beijing.")
SPANISH = ("Rusia y China acordaron profundizar la inversión en servicios comerciales y promover las "
           "exportaciones agrícolas durante la visita del primer ministro ruso a Pekín.")
GERMAN = ("Russland und China wollen ihre Zusammenarbeit im Handel vertiefen, erklärte der russische "
          "Ministerpräsident bei seinem Besuch in Peking am Mittwoch.")
FRENCH = ("La Russie et la Chine ont convenu d'approfondir leurs investissements dans les services "
          "commerciaux lors de la visite du Premier ministre russe à Pékin.")
RUSSIAN = ("Россия и Китай договорились углубить инвестиции в торговлю услугами во время визита "
           "премьер-министра России в Пекин.")
CHINESE = "俄罗斯和中国同意在俄罗斯总理访问北京期间深化贸易服务投资，促进农产品出口。"


@pytest.fixture(scope="module")
def config() -> dict:
    return load_config()


@pytest.fixture(scope="module")
def detect():
    return LanguageDetector(seed=0, max_chars=10000).detect


@pytest.mark.parametrize("text, expected", [
    (ENGLISH, "en"), (SPANISH, "es"), (GERMAN, "de"), (FRENCH, "fr"), (RUSSIAN, "ru"), (CHINESE, "zh"),
    # too short or no letters: undetermined, never a guess
    ("Hello", "und"), ("OK 12345 !!", "und"), ("https://example.com/a/b", "und"), ("", "und"),
])
def test_language_decide(detect, text, expected):
    code, score = decide(text, detect, min_letters=20, min_score=0.7)
    assert code == expected
    assert (score >= 0.7) == (expected != "und")


def test_language_decide_unclear_is_und(detect):
    # Half English, half Spanish: no language reaches a probability of 0.999999.
    mixed = ENGLISH[:90] + " " + SPANISH[:90]
    assert decide(mixed, detect, min_letters=20, min_score=0.999999)[0] == "und"


def test_language_detection_is_deterministic():
    text = "Mishustin said bilateral trade could reach 200 billion dollars this year, up from last year."
    results = {LanguageDetector(seed=0, max_chars=10000).detect(text) for _ in range(3)}
    assert len(results) == 1


@pytest.mark.parametrize("code, expected", [("zh-cn", "zh"), ("zh-tw", "zh"), ("en", "en"), ("pt", "pt")])
def test_language_iso639_1(code, expected):
    assert iso639_1(code) == expected


def test_language_stage_lists_foreign_paragraphs_with_raw_offsets(config):
    raw = f"Photo: REUTERS\n{ENGLISH}\n\n{SPANISH}\n\n{ENGLISH}\n\nShort line.\n"
    doc = Document.from_raw("mixed.txt", raw)
    doc.edit([Edit(0, len("Photo: REUTERS\n"), "")])  # cleaning removed a credit line before
    doc = language.build(config)(doc)
    assert doc.language == "en" and doc.language_score >= 0.7
    assert len(doc.language_spans) == 1
    span = doc.language_spans[0]
    assert span["language"] == "es" and span["score"] >= 0.9
    assert doc.text[span["start"]:span["end"]] == SPANISH
    assert raw[span["raw_start"]:span["raw_end"]] == SPANISH
    spans = json.loads((ROOT / "configs" / "record.schema.json").read_text())["properties"]["language_spans"]
    assert not list(Draft202012Validator(spans).iter_errors(doc.language_spans))


def test_language_stage_remembers_an_identical_texts_language_and_places_its_spans_anew(config, monkeypatch):
    read = []
    paragraphs = language.paragraphs
    monkeypatch.setattr(language, "paragraphs", lambda text, *args: read.append(text) or paragraphs(text, *args))
    detect = language.build(config)
    # The same clean text from two pages: one printed a credit line above it, which cleaning removed.
    body = f"{ENGLISH}\n\n{SPANISH}\n\n{ENGLISH}\n"
    bare = detect(Document.from_raw("bare.txt", body))
    credited = Document.from_raw("credited.txt", f"Photo: REUTERS\n{body}")
    credited.edit([Edit(0, len("Photo: REUTERS\n"), "")])
    credited = detect(credited)
    assert read == [body]
    assert credited.language == bare.language == "en"
    assert credited.language_score == bare.language_score
    [span] = credited.language_spans
    assert (span["start"], span["end"], span["language"]) == (bare.language_spans[0]["start"],
                                                                bare.language_spans[0]["end"], "es")
    assert span["raw_start"] == bare.language_spans[0]["raw_start"] + len("Photo: REUTERS\n")
    assert f"Photo: REUTERS\n{body}"[span["raw_start"]:span["raw_end"]] == SPANISH
    assert span is not bare.language_spans[0]
    # Without reuse every document is read.
    monkeypatch.setitem(config["language"], "reuse_texts", 0)
    language.build(config)(Document.from_raw("again.txt", body))
    assert read == [body, body]


@pytest.fixture(scope="module")
def common(config):
    return language.common_words(config["language"]["common_words"])


@pytest.mark.parametrize("paragraph, code, plain", [
    (ENGLISH, "en", True), (SPANISH, "es", True), (GERMAN, "de", True), (RUSSIAN, "ru", True),
    # another language's paragraph is never plainly in the document's
    (SPANISH, "en", False), (GERMAN, "en", False), (FRENCH, "en", False), (RUSSIAN, "en", False),
    ("Pembuat Film Fitna Dirikan Partai Islam Di Eropa", "en", False),
    # English shares many words with the top words of German and Portuguese ("the", "of", "in"):
    # only the contrast with English's own top words keeps it from passing as either
    (ENGLISH, "de", False), (ENGLISH, "pt", False), (ENGLISH, "nl", False),
    # no word list for the document's language: always asked about
    (CHINESE, "zh", False),
])
def test_language_plain_language_tells_a_paragraph_by_its_most_frequent_words(config, common, paragraph, code, plain):
    settings = config["language"]["common_words"]
    assert (language.plain_language(paragraph, common, settings["min_share"], settings["margin"]) == code) is plain


def test_language_plain_language_needs_the_margin_over_other_languages(config, common):
    # Over half of this English sentence's words are among German's 300 most frequent ("the", "in",
    # "was", "man", "will", "also", "an"): without the contrast with English, it would pass for German
    # in a German document and never be listed in language_spans.
    english = "The man who was shot in the leg in Ohio will also testify in the trial, an attorney said."
    settings = config["language"]["common_words"]
    german_only = language.CommonWords.of({"de": top_n_list("de", settings["top"], wordlist="small")})
    assert language.common_shares(english, common)["de"] >= 0.5
    assert language.plain_language(english, german_only, settings["min_share"], settings["margin"]) == "de"
    assert language.plain_language(english, common, settings["min_share"], settings["margin"]) == "en"


def test_language_common_shares_count_every_language_in_one_pass(config, common):
    # The index by word gives each language's share as counting its top words one language at a time would.
    shares = language.common_shares(f"{ENGLISH} {GERMAN} the the", common)
    words = language._WORD.findall(f"{ENGLISH} {GERMAN} the the".lower())
    for code in ("en", "de", "es"):
        top = set(top_n_list(code, config["language"]["common_words"]["top"], wordlist="small"))
        assert shares[code] == sum(word in top for word in words) / len(words)
    assert set(shares) == set(common.languages)


def test_language_stage_asks_langdetect_only_about_paragraphs_not_plainly_english(config, common):
    asked = []
    detector = LanguageDetector(seed=0, max_chars=10000).detect
    doc = Document.from_raw("mixed.txt", f"{ENGLISH}\n\n{GERMAN}\n\n{ENGLISH}\n\n{FRENCH}\n")
    settings = config["language"]["common_words"]
    parts = language.paragraphs(doc.text, common, settings["min_share"], settings["margin"])
    spans = language.foreign_paragraphs(parts, "en", lambda text: asked.append(text) or detector(text), 60, 0.9)
    assert asked == [GERMAN, FRENCH]
    assert [span.language for span in spans] == ["de", "fr"]


def test_language_document_plainly_in_one_language_is_not_asked_about(config, common):
    asked = []
    detector = LanguageDetector(seed=0, max_chars=3000).detect
    text = f"Photo: AP\n\n{ENGLISH}\n\n{ENGLISH}\n"  # the credit line, plainly Latvian, is too short to count
    parts = language.paragraphs(text, common, 0.3, 0.05)
    assert language.document_language(text, parts, lambda t: asked.append(t) or detector(t),
                                      config["language"]) == ("en", language.PLAIN_SCORE)
    assert asked == []
    assert language.PLAIN_SCORE == round(detector(text)[1], 4)  # what langdetect would have said


@pytest.mark.parametrize("paragraphs, expected", [
    # unanimous, and most of the letters: decided
    ([ENGLISH, ENGLISH, "Kyle Busch"], "en"),
    # a paragraph too short to tell has no say, though its two words are plainly Latvian
    ([ENGLISH, "Photo: AP"], "en"),
    # two languages plain: langdetect decides
    ([ENGLISH, ENGLISH, GERMAN], None),
    # too few of the letters in plain paragraphs (a language without a word list): langdetect decides
    ([ENGLISH, CHINESE * 3], None),
    # nothing plain
    ([CHINESE], None),
])
def test_language_plain_document_language(common, paragraphs, expected):
    parts = language.paragraphs("\n\n".join(paragraphs), common, 0.3, 0.05)
    assert language.plain_document_language(parts, 0.7, 20) == expected


def test_language_document_language_reads_only_as_far_as_langdetect(config, common):
    # Past max_chars, plain English paragraphs do not outvote what langdetect reads (Chinese here).
    settings = {**config["language"], "max_chars": 200}
    text = "\n\n".join([CHINESE * 4] + [ENGLISH] * 5)
    parts = language.paragraphs(text, common, 0.3, 0.05)
    detector = LanguageDetector(seed=0, max_chars=200).detect
    assert language.document_language(text, parts, detector, settings)[0] == "zh"


def test_language_stage_lists_an_english_paragraph_in_a_german_document(config):
    german = GERMAN + " Die Gespräche sollen im nächsten Jahr in Moskau fortgesetzt werden, hieß es."
    english = "The man who was shot in the leg in Ohio will also testify in the trial, an attorney said."
    doc = language.build(config)(Document.from_raw("de.txt", f"{german}\n\n{german}\n\n{english}\n"))
    assert doc.language == "de"
    assert [(span["language"], doc.text[span["start"]:span["end"]]) for span in doc.language_spans] == [("en", english)]


def test_language_detector_cache_gives_the_uncached_answers(config):
    cached = LanguageDetector(seed=0, max_chars=3000, cache_size=4).detect
    plain = LanguageDetector(seed=0, max_chars=3000).detect
    texts = [ENGLISH, SPANISH, ENGLISH, GERMAN, FRENCH, RUSSIAN, SPANISH, ENGLISH * 40]
    assert [cached(text) for text in texts] == [plain(text) for text in texts]

def test_language_detectors_share_the_profiles_loaded_once_per_seed():
    assert language.profiles(0) is language.profiles(0)
    assert language.profiles(1) is not language.profiles(0)
    first, second = LanguageDetector(seed=0, max_chars=10000), LanguageDetector(seed=0, max_chars=10000)
    texts = (ENGLISH, SPANISH, GERMAN, RUSSIAN, ENGLISH[:90] + " " + SPANISH[:90])
    answers = [first.detect(text) for text in texts]
    # The shared profiles carry nothing from one detection to the next, whichever detector made it.
    for text in (FRENCH, CHINESE, GERMAN) * 3:
        second.detect(text)
    assert [second.detect(text) for text in texts] == answers == [first.detect(text) for text in texts]


def test_language_paragraphs_count_the_documents_letters_once(common):
    # The document's letters are its paragraphs' (only line breaks lie between), counted once each.
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text("utf-8")
        parts = language.paragraphs(text, common, 0.3, 0.05)
        assert [part.letters for part in parts] == [letter_count(part.text) for part in parts]
        assert sum(part.letters for part in parts) == letter_count(text) > 1000

@pytest.mark.parametrize("text, code", [(ENGLISH + "\n\n" + ENGLISH, "en"), (GERMAN + "\n\n" + GERMAN, "de")])
def test_language_stage_single_language_has_no_spans(config, text, code):
    doc = language.build(config)(Document.from_raw("one.txt", text))
    assert (doc.language, doc.language_spans) == (code, [])


def test_language_stage_in_pipeline_keeps_non_english(config):
    docs = [Document.from_raw("en.txt", ENGLISH), Document.from_raw("de.txt", GERMAN),
            Document.from_raw("short.txt", "Leave a Comment")]
    with local_pipeline() as p:
        out = p | beam.Create(docs) | DocumentStage(language.STAGE, language.build, config)
        assert_that(out[DOCS] | beam.Map(lambda d: (d.source, d.language)),
                    equal_to([("en.txt", "en"), ("de.txt", "de"), ("short.txt", "und")]), label="languages")
        assert_that(out[REJECTED], equal_to([]), label="none_rejected")


def test_language_top_words_are_wordfreqs_top_words_without_keeping_its_lists():
    # wordfreq caches a language's whole list behind top_n_list; the stage needs only its top words.
    get_frequency_list.cache_clear()
    language.top_words.cache_clear()
    for code in ("en", "de", "ru", "vi"):
        assert language.top_words(code, 300) == tuple(top_n_list(code, 300, wordlist="small"))
    get_frequency_list.cache_clear()
    language.top_words("fi", 300)
    assert get_frequency_list.cache_info().currsize == 0


def test_language_check_config_paragraph_threshold(config):
    bad = copy.deepcopy(config)
    bad["language"]["min_paragraph_letters"] = bad["language"]["min_letters"] - 1
    with pytest.raises(ConfigError, match="min_paragraph_letters"):
        language.check_config(bad)


def test_language_check_config_names_a_language_without_a_word_list(config):
    bad = copy.deepcopy(config)
    bad["language"]["common_words"]["languages"] = ["en", "xq"]
    with pytest.raises(ConfigError, match="language.common_words.languages.*'xq'"):
        language.check_config(bad)
