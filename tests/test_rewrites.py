import apache_beam as beam
import pytest
import spacy
import wordfreq
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import SEEDS, local_pipeline, relate, seed
from transforms.document import Document
from transforms.rewrites import (alignment, content_token, countable_word, rarities, rewrite_score, salient_terms, sentence_sets,
                                 sentence_similarity, text_terms, tokenize, tokenizer)
from transforms.spill import SpillDocuments

SETTINGS = {"stem_prefix": 5, "min_sentence_terms": 3, "sentence_threshold": 0.25, "min_aligned_sentences": 3,
            "min_aligned_share": 0.5, "threshold": 0.22, "block_keys": 10, "max_block_neighbours": 50}
FLOODS = (
    "Heavy rain flooded the northern Italian region of Emilia-Romagna on Wednesday, killing at least nine people. "
    "Rivers burst their banks in Cesena, Faenza and Forli after six months' rain fell in 36 hours. "
    "More than 13,000 people were forced from their homes, the civil protection agency said. "
    "The Formula One Grand Prix at Imola, due to be held on Sunday, was cancelled for safety reasons. "
    "Prime Minister Giorgia Meloni said the government was ready to declare a state of emergency. "
    "Farmers warned that flooded orchards and vineyards would cost the region's harvest for years. "
    "Forecasters expected more rain over the Apennine valleys through the weekend. "
    "Rescue crews used helicopters to lift residents from rooftops in the village of Conselice.")


def sentences(text: str, **fields) -> tuple:
    doc = Document(id="x", source="s", text=text, **fields)
    return sentence_sets(doc, text_terms(doc), SETTINGS)[0]


@pytest.mark.parametrize("word, expected", [
    ("visited", "visit"),
    ("Visits", "visit"),
    ("Mishustin", "mishu"),
    ("1,200", "1200"),
    ("40", "40"),
    ("the", None),
    ("because", None),
    (",", None),
    ("$", None),
])
def test_rewrites_content_token_keeps_stems_and_numbers_drops_function_words(word, expected):
    token = tokenizer("en")(word)[0]
    assert content_token(token, 5) == expected


def test_rewrites_sentences_carry_entities_by_position():
    text = "Mishustin met Xi in Beijing on Wednesday. Trade grew by 40% this year, officials said."
    entity = {"text": "Xi", "label": "PERSON", "start": 14, "end": 16, "raw_start": 14, "raw_end": 16,
              "canonical": "Xi Jinping"}
    first, second = sentences(text, entities=[entity])
    assert "@xi jinping" in first and "@xi jinping" not in second
    assert {"mishu", "beiji", "wedne"} <= first and {"trade", "40", "year"} <= second


def test_rewrites_hyphenated_words_count_by_their_words_and_abbreviations_end_no_sentence():
    # Indonesian plurals repeat the word with a hyphen; the special cases that kept them whole (and
    # so out of the features, which keep alphabetic tokens only) are not loaded.
    text = ("Anak-anak sekolah bermain sepak bola di lapangan desa setiap sore. "
            "Dr. Budi Santoso melatih tim sepak bola anak-anak desa itu sejak tahun lalu.")
    first, second = sentences(text, language="id")
    assert {"anak", "sekol", "lapan"} <= first
    assert {"budi", "santo", "anak", "melat"} <= second
    tokens = tokenize(text, "id")
    assert len(tokens.sentences) == 2  # "Dr." stays one token: no sentence ends after it
    assert "Dr." in tokens.words


def _spacy_split(text: str, language: str) -> tuple[list[str], list[tuple[int, int]]]:
    """What ``tokenize`` stands for: a Doc from the blank pipeline, its whitespace tokens left out."""
    words, sentences = [], []
    for token in tokenizer(language)(text):
        if token.is_sent_start:
            sentences.append((len(words), token.idx))
        if not token.is_space:
            words.append(token.text)
    # A sentence begun by whitespace after the last word holds nothing.
    return words, [sentence for sentence in sentences if sentence[0] < len(words) or sentence == (0, 0)]


@pytest.mark.parametrize("language, text", [
    *[("en", path.read_text(encoding="utf-8")) for path in sorted(SEEDS.glob("*.txt"))],
    ("en", "  Leading spaces.\n\n\"Quoted,\" she said.  Two spaces. U.S. officials met Dr. Smith at 5 p.m.\t"
           "Then... nothing!? (Really.) \n. Next\u00a0word – ends.\n"),
    ("de", "Die Bundesregierung hat am Mittwoch, d.h. gestern, z.B. neue Regeln beschlossen. Sie gelten ab 2024."),
    ("fr", "L'Élysée a confirmé aujourd'hui la visite. « C'est historique », a-t-il déclaré."),
    ("en", ""),
])
def test_rewrites_tokenize_splits_words_and_sentences_as_the_spacy_pipeline_does(language, text):
    tokens = tokenize(text, language)
    assert (tokens.words, tokens.sentences) == _spacy_split(text, language)


def test_rewrites_salient_terms_prefer_rare_names_to_common_words():
    words = tokenize("The minister said Mishustin would visit Vladivostok. The minister said so.", "en").words
    terms = [word for word, _ in salient_terms(words, "en", 3)]
    assert terms[:2] == ["vladivostok", "mishustin"] or terms[:2] == ["mishustin", "vladivostok"]
    assert "said" not in terms


@pytest.mark.parametrize("word, language, rare", [
    ("Mishustin", "en", True),
    ("said", "en", False),
    ("Vladivostok", None, True),
    ("엔터미디어", "ko", True),   # no segmenter installed for Korean: no crash, every word counts as rare
    ("gazeta", "und", True),      # no word list for the language
])
def test_rewrites_rarity_of_names_and_common_words_in_any_language(word, language, rare):
    assert (rarities([word, "the"], language)[0] > 3.0) == rare


@pytest.mark.parametrize("a, b, expected", [
    (frozenset({"trade", "china", "russi"}), frozenset({"trade", "china", "russi"}), 1.0),
    (frozenset({"trade", "china"}), frozenset({"trade", "grain"}), 0.5),
    (frozenset({"trade"}), frozenset(), 0.0),
])
def test_rewrites_sentence_similarity_is_dice(a, b, expected):
    assert sentence_similarity(a, b) == expected


@pytest.mark.parametrize("first, second, is_rewrite", [
    ("000", "001", True),    # sentence-by-sentence paraphrase of the same article
    ("003", "004", True),    # paraphrase with paragraphs of commentary added
    ("000", "002", False),   # same event, independently written
    ("000", "003", False),
    ("001", "004", False),
    ("002", "004", False),
])
def test_rewrites_score_separates_paraphrases_from_same_event_articles(first, second, is_rewrite):
    a, b = sentences(seed(first)), sentences(seed(second))
    assert (rewrite_score(a, b, SETTINGS) >= SETTINGS["threshold"]) == is_rewrite
    assert rewrite_score(a, b, SETTINGS) == rewrite_score(b, a, SETTINGS)


def test_rewrites_alignment_keeps_sentence_order():
    forward = sentences(seed("001"))
    assert alignment(forward, forward, 0.25) == (1.0, len(forward))
    assert alignment(forward, tuple(reversed(forward)), 0.25)[0] < 0.3
    assert alignment(forward, (), 0.25) == (0.0, 0)


@pytest.mark.parametrize("shared, is_rewrite", [
    (2, False),  # two sentences in common (a quote, a standard paragraph) are not a rewrite
    (8, True),   # the whole short article carried over
])
def test_rewrites_score_needs_enough_aligned_sentences(shared, is_rewrite):
    source = sentences(seed("000"))[:8]
    mixed = source[:shared] + sentences(FLOODS)[: 8 - shared]
    assert (rewrite_score(source, mixed, SETTINGS) >= SETTINGS["threshold"]) == is_rewrite


def _doc(number: str, published: str | None, **fields) -> Document:
    return Document.from_raw(f"feed/{number}.txt", seed(number), published=published, **fields)


def _rewrite(doc: Document) -> tuple[str, str | None, bool]:
    return doc.id, doc.rewrite_of, doc.rewrite_score is not None and doc.rewrite_score >= SETTINGS["threshold"]


def test_rewrites_pipeline_points_each_paraphrase_to_the_earliest_version():
    docs = [_doc("000", "2023-05-24"), _doc("001", "2023-05-23"), _doc("002", "2023-05-24"),
            _doc("003", None), _doc("004", None)]
    # 003 and 004 are undated: the smaller id is the earlier version. Ids hash the fixed paths:
    # feed/004.txt's (53bcf5…) sorts before feed/003.txt's (deef3e…), so 003 is the rewrite of 004.
    assert docs[4].id < docs[3].id
    expected = [(docs[0].id, docs[1].id, True), (docs[1].id, None, False), (docs[2].id, None, False),
                (docs[3].id, docs[4].id, True), (docs[4].id, None, False)]
    with local_pipeline() as p:
        assert_that(relate(p, docs, rewrites=SETTINGS) | beam.Map(_rewrite), equal_to(expected), label="rewrite_of")


@pytest.mark.parametrize("held", [False, True], ids=["joined", "held-on-disk"])
def test_rewrites_pipeline_skips_near_duplicate_copies(held, tmp_path):
    """Streaming windows join the rewrite features with the copies; a batch holds them on disk (as the
    documents) and filters them with the copies as a side input. Either way the copy is left out."""
    first = _doc("000", "2023-05-24")
    mirror = Document.from_raw("mirror/000.txt", seed("000"), published="2023-05-24")
    # Same text, same date: the smaller id is the canonical; feed/000.txt's (6331ac…) sorts before
    # mirror/000.txt's (b15b19…).
    assert first.id < mirror.id
    canonical, copy = first, mirror
    paraphrase = _doc("001", "2023-05-25")
    hold = SpillDocuments(str(tmp_path)) if held else None
    with local_pipeline() as p:
        out = relate(p, [first, mirror, paraphrase], hold, rewrites=SETTINGS) | beam.Map(
            lambda d: (d.id, d.duplicate_of, d.rewrite_of))
        assert_that(out, equal_to([(canonical.id, None, None), (copy.id, canonical.id, None),
                                   (paraphrase.id, None, canonical.id)]), label="CheckCopySkipped")


@pytest.mark.parametrize("code", ["en", "de", "fr", "es", "ru", "id", "xx"])
def test_rewrites_blank_vocabulary_decides_words_as_spacy_with_every_attribute(code):
    # The blank pipelines compute only the lexical attributes the features read; what the features
    # decide of a word must be what a spaCy vocabulary computing all of them decides.
    words = [*wordfreq.top_n_list("en" if code == "xx" else code, 3000, wordlist="best"),
             *tokenize(seed("001") + seed("003"), "en").words, "1,200", "3.5", "twenty", "XIV", "—", "«", "U.S."]
    pruned, full = tokenizer(code), spacy.blank(code)
    assert len(pruned.vocab.lex_attr_getters) < len(full.vocab.lex_attr_getters)
    with pruned.memory_zone(), full.memory_zone():
        for word in words:
            ours, theirs = pruned.vocab[word], full.vocab[word]
            assert (content_token(ours, 5), countable_word(ours), ours.is_punct) == \
                (content_token(theirs, 5), countable_word(theirs), theirs.is_punct), word
