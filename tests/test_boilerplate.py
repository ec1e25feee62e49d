import copy

import pytest
import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from pipeline.config import load_config
from tests.conftest import local_pipeline
from transforms import boilerplate
from transforms.document import Document
from transforms.errors import ConfigError
from transforms.stage import DOCS, DocumentStage

CONFIG = load_config()
STRIP = boilerplate.build(CONFIG)
PACKS = boilerplate.RulePacks(CONFIG["files"]["rules/boilerplate.yaml"], "boilerplate.rules_file")
REPEATS = CONFIG["boilerplate"]["repeats"]

ARTICLE = [
    "Russia and China agreed on Wednesday to deepen investment in trade services, promote agricultural exports "
    "and strengthen sports cooperation, as the Russian prime minister signed a series of agreements in Beijing.",
    "Mishustin is the most senior Russian official to visit Beijing since the start of the war in Ukraine, and he "
    "met both Xi Jinping and Premier Li Qiang during the two days he spent in the Chinese capital.",
    "“We are past the point where Japan or the US is going to do things because of China’s critical "
    "commentary,” Bland said, adding that the region was unlikely to welcome a liaison office.",
    "On Tuesday, Mishustin said that bilateral trade could reach $200 billion this year, up from $190 billion in "
    "2022, and that energy shipments to China would grow by around 40% over the same period.",
]


def article_with(*extra_after_first: str) -> str:
    return "\n\n".join([ARTICLE[0], *extra_after_first, *ARTICLE[1:]])


@pytest.mark.parametrize("line, rule", [
    ("Share this:", "share"), ("SHARE THIS", "share"), ("Leave a Comment", "comments"), ("Comments", "comments"),
    ("All comments.", "comments"), ("Our standards: The Thomson Reuters Trust Principles.", "wire_notices"),
    ("Advertisement", "advertising"), ("Read more", "read_more"), ("READ MORE: Putin meets Xi in Moscow", "read_more_headline"),
    ("Sign up for our daily newsletter", "newsletter_prompt"), ("Subscribe now to get unlimited access", "subscribe_prompt"),
    ("We use cookies to improve your experience on our site.", "cookie_notice"),
    ("© 2023 Example News Ltd. All rights reserved.", "copyright_line"), ("Click to share on Twitter (Opens in new window)", "share_click_to"),
    ("[ 167 comments ]", "comments_count"), ("Follow us on Twitter and Facebook", "follow_us_on"),
    ("Updated 19 November 2019", "timestamp_line"),
    ("Gary M on September 12, 2018 at 3:04 pm said:", "comments_said"),
    ("Stay up to date with Ascom. Subscribe to our newsletter.", "newsletter_sentence"),
    ("Story continues below gallery", "continues_below"),
    ("34 responses to “ Anthony Lynn: “We needed to win this game” ”", "comments_responses_to"),
    ("thelastchargersfan says:", "comments_says"),
    ("No spam, we promise. You can unsubscribe at any time.", "unsubscribe_note"),
    ("Email Tariq Malik or follow him. Follow us on Twitter @Spacedotcom and on Facebook.", "follow_us_sentence"),
    ("Email Tariq Malik at tmalik@space.com or follow him @tariqjmalik.", "author_contact"),
])
def test_boilerplate_rule_packs_name_furniture(line, rule):
    assert PACKS.match(line) == rule


@pytest.mark.parametrize("line", [
    "Comments by the minister drew criticism from Kyiv.",
    "Share prices rose 3% in Shanghai on Tuesday.",
    "Read more about the plan in the agency's statement, the ministry said.",
    "Subscribers to the service were told on Monday that prices would rise.",
    "Advertisements for the event appeared across Moscow.",
    "The company said it had updated its forecast for 2024 after the sanctions took effect.",
    "The minister on Monday said:",
    "He said on May 3, 2019 that the plan was dead.",
    "Readers who subscribe to the paper's newsletter were told of the changes on Monday.",
    "The story continues to unfold in Kyiv, where officials said talks would resume on Friday.",
    "Biden says he will run again.",
    "In 2019, 34 responses to the survey were received by the ministry.",
    "The senator told supporters to follow us on the campaign trail, his aide said.",
    "Police asked anyone with information to contact Detective Jane Roe at the station.",
])
def test_boilerplate_rule_packs_leave_prose(line):
    assert PACKS.match(line) is None


@pytest.mark.parametrize("kept", [
    "“Please.”",                                                     # a short quote
    "Trade between the two countries has increased.",               # a one-sentence paragraph
    "A new era of cooperation",                                     # a subhead between paragraphs
])
def test_boilerplate_classifier_keeps_short_prose_inside_the_article(kept):
    doc = STRIP(Document.from_raw("a.txt", article_with(kept)))
    assert kept in doc.text
    assert doc.removed == []


def test_boilerplate_classifier_drops_menus_and_teasers_around_the_article():
    menu = ["Home", "World", "Business", "Markets", "Opinion", "Tech"]
    teasers = ["Ukraine war latest: Kyiv reports drone attacks overnight",
               "Analysis: what the G7 statement means for Beijing and Moscow",
               "Oil prices climb as OPEC weighs new cuts", "Markets wrap: stocks edge higher"]
    doc = STRIP(Document.from_raw("a.txt", "\n".join(menu) + "\n\n" + "\n\n".join(ARTICLE) + "\n\n"
                                  + "\n".join(teasers)))
    assert [part for part in doc.text.split("\n") if part.strip()] == ARTICLE
    assert len(doc.removed) == len(menu) + len(teasers)
    assert {item["rule"] for item in doc.removed} <= {"navigation", "classifier:short", "classifier:headline"}


def test_boilerplate_classifier_keeps_a_page_with_no_prose_line_whole():
    text = "Results\n\nArsenal 2 Chelsea 1\n\nLiverpool 0 Everton 0"
    assert STRIP(Document.from_raw("a.txt", text)).text == text


def test_boilerplate_classifier_drops_a_comment_thread_after_the_article():
    thread = []
    for user, comment in (("Woyzeck", "It is good to see Apple unveiling its products at last, in my opinion."),
                          ("Nick A", "I think we will see similar updates to what the larger model received."),
                          ("fmcshan", "It would be nice if they switched to a bigger screen with slimmer bezels.")):
        thread += [user, "2 days ago at 07:52 am", comment, "Rating: 36 Votes"]
    doc = STRIP(Document.from_raw("a.txt", "\n\n".join(ARTICLE) + "\n\nTop Rated Comments\n(View all)\n"
                                  + "\n".join(thread)))
    assert [part for part in doc.text.split("\n") if part.strip()] == ARTICLE


def _docs(lines_per_doc):
    return [Document.from_raw(f"site/{i}.txt", article_with(*lines)) for i, lines in enumerate(lines_per_doc)]


def test_boilerplate_repeats_need_min_documents_of_one_source():
    footer = "Example News is an independent publisher based in London."
    shared = "The talks ended without a joint statement on Ukraine."
    docs = _docs([[footer], [footer], [footer, shared], [shared]])
    repeated = boilerplate.count_repeats(docs, REPEATS)
    assert len(repeated) == 1 and list(repeated.values()) == [3]
    out = STRIP(docs[2], repeated)
    assert shared in out.text and footer not in out.text
    assert [item["rule"] for item in out.removed] == ["corpus_repeat"]


def test_boilerplate_repeats_never_count_quotes_or_long_lines_or_other_sources():
    quote = "“We will respond,” the spokesman said."
    docs = [Document.from_raw(f"{site}/{i}.txt", quote + "\n\n" + ARTICLE[0] + "\n\nSee the full programme")
            for i, site in enumerate(["a", "b", "c", "a", "b"])]
    assert boilerplate.count_repeats(docs, REPEATS) == {}


def test_boilerplate_repeats_group_by_url_host_when_known():
    doc = Document.from_raw("feed.jsonl:3", "x", url="https://www.example.com/news/1")
    assert boilerplate.source_group(doc) == "example.com"
    assert boilerplate.source_group(Document.from_raw("gs://bucket/site/a.txt", "x")) == "gs://bucket/site"


def test_boilerplate_check_config_refuses_bad_thresholds():
    config = copy.deepcopy(CONFIG)
    config["boilerplate"]["classifier"]["stopwords_low"] = 0.9
    with pytest.raises(ConfigError):
        boilerplate.check_config(config)


def test_boilerplate_stage_with_corpus_repeats_in_a_pipeline():
    footer = "Example News is an independent publisher based in London."
    docs = [Document.from_raw(f"{site}/{i}.txt", article_with(footer))
            for i, site in enumerate(["site", "site", "site", "other"])]
    with local_pipeline() as p:
        created = p | beam.Create(docs)
        repeated = created | boilerplate.RepeatedLines(CONFIG)
        assert_that(repeated | "Counts" >> beam.Map(lambda item: item[1]), equal_to([3]), label="aggregate")
        out = created | DocumentStage(boilerplate.STAGE, boilerplate.build, CONFIG, beam.pvalue.AsDict(repeated))
        assert_that(out[DOCS] | beam.Map(lambda d: (d.source, footer in d.text)),
                    equal_to([("site/0.txt", False), ("site/1.txt", False), ("site/2.txt", False),
                              ("other/3.txt", True)]), label="stripped")


def test_boilerplate_repeats_do_not_depend_on_document_order():
    footer = "Example News is an independent publisher based in London."
    docs = _docs([[footer], ["Menu"], [footer, "Menu"], [footer], ["Menu", "Sport"], ["Menu"]])
    assert boilerplate.count_repeats(docs, REPEATS) == boilerplate.count_repeats(docs[::-1], REPEATS)
    assert len(boilerplate.count_repeats(docs, REPEATS)) == 2


def test_boilerplate_classifier_keeps_an_article_split_by_a_gallery():
    gallery = ["Story continues below gallery", "1 of 6", "Christopher Battin Submitted photo",
               "Jonathan P. Blair Submitted photo"]
    menu = ["Home", "News", "Sports", "Obituaries", "Business", "Opinion"]
    doc = STRIP(Document.from_raw("a.txt", "\n".join(menu) + "\n\n" + "\n\n".join(ARTICLE[:2]) + "\n"
                                  + "\n".join(gallery) + "\n" + "\n\n".join(ARTICLE[2:])))
    # The article is one block across the embed: no paragraph lost; inside it, short lines stay.
    assert [part for part in doc.text.split("\n") if part.strip()] == ARTICLE[:2] + gallery[1:] + ARTICLE[2:]
    assert {item["text"] for item in doc.removed} == {*menu, gallery[0]}


def test_boilerplate_classifier_drops_teasers_after_a_run_of_link_titles():
    links = ["Most read in world news", "Andrew parties in unearthed pics", "Greta Thunberg in 120-year-old pic",
             "Mum demands kids clothes have gender labels scrapped", "Warning", "Russian Popeye has tricep removed",
             "Pregnant girl jumps to her death", "Popular Articles", "Dec takes baby Isla for walk"]
    teaser = ("Emmerdale fans were stunned on Monday night as the village teacher was revealed to be pregnant, in an "
              "episode that drew the soap's biggest audience of the year so far.")
    doc = STRIP(Document.from_raw("a.txt", "\n\n".join(ARTICLE) + "\n" + "\n".join(links) + "\n" + teaser))
    assert [part for part in doc.text.split("\n") if part.strip()] == ARTICLE
    assert any(item["text"] == teaser and item["rule"] == "classifier:off_block" for item in doc.removed)


def test_boilerplate_page_repeat_drops_a_caption_printed_twice_and_keeps_the_first():
    caption = "U.S. Defense Secretary Mark Esper, left, and Vietnamese Defense Minister Ngo Xuan Lich shake hands"
    text = "\n\n".join([ARTICLE[0], ARTICLE[1], caption, "“Please.”", ARTICLE[2], caption, "“Please.”",
                        ARTICLE[3]])
    doc = STRIP(Document.from_raw("a.txt", text))
    assert doc.text.count(caption) == 1 and doc.text.count("“Please.”") == 2  # a short line may repeat
    assert [(item["rule"], item["text"]) for item in doc.removed] == [("page_repeat", caption)]


@pytest.mark.parametrize("code, word", [("en", "the"), ("fr", "les"), ("de", "und"), ("ru", "и")])
def test_boilerplate_stop_words_come_from_spacy_lists(code, word):
    assert word in boilerplate.stop_words(code)


def test_boilerplate_check_config_names_a_language_without_a_stop_word_list():
    with pytest.raises(ConfigError, match="languages"):
        load_config(overrides=["boilerplate.classifier.languages=[en, qq]"])


def test_boilerplate_classifier_keeps_a_list_announced_by_a_colon_at_the_end_of_the_article():
    dates = ["June 9 -- Coral Sky Amphitheatre, West Palm Beach, FL", "June 10 -- MIDFLORIDA Amphitheatre, Tampa, FL",
             "June 14 -- Ameris Bank Amphitheatre, Alpharetta, GA", "June 17 -- Bridgestone Arena, Nashville, TN",
             "June 19 -- PNC Music Pavilion, Charlotte, NC"]
    footer = ["Magazine", "Customer Service", "Buy this issue"]
    lead = "The Doobie Brothers 50th Anniversary Tour 2020 dates:"
    doc = STRIP(Document.from_raw("a.txt", "\n".join([*ARTICLE, lead, *dates, "Share", *footer])))
    assert [part for part in doc.text.split("\n") if part.strip()] == [*ARTICLE, lead, *dates]
    assert [item["text"] for item in doc.removed] == ["Share", *footer]
