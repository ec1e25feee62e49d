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


def test_boilerplate_repeats_group_a_url_that_does_not_parse_by_its_folder():
    doc = Document.from_raw("feeds/wire.jsonl:3", "x", url="http://[2001:db8::1/news/1")
    assert boilerplate.source_group(doc) == "feeds"


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


HEADLINE = "Doobie Brothers unite with Michael McDonald for 50th anniversary tour"
MENU = ["Home", "Music", "Movies", "TV", "Politics", "Culture"]


@pytest.mark.parametrize("heading, rows", [
    ("The Doobie Brothers Tour Dates",                              # dated entries, no colon before them
     ["June 9 – West Palm Beach, FL @ Coral Sky Amphitheatre", "June 10 – Tampa, FL @ MIDFLORIDA Amphitheatre",
      "June 14 – Alpharetta, GA @ Ameris Bank Amphitheatre", "June 17 – Nashville, TN @ Bridgestone Arena"]),
    ("Defensive Line",                                              # a table of results
     ["DL Larry Ogunjobi 63 85% 1 tackle (1 combined). 1 sack, 1 TFL, 2 QH.",
      "DL Myles Garrett 57 77% 1 tackle (1 combined). 3 QH.",
      "DL Chad Thomas 57 77% 3 tackles (3 combined). 1 sack, 1 TFL, 1 QH, 1 pass defended."]),
    ("Qualified teams",                                             # one layout of fields, few figures
     ["England (Group A): 10th appearance", "Czech Republic (Group A): Seventh appearance",
      "Ukraine (Group B): Third appearance", "Spain (Group F): Eleventh appearance"]),
])
def test_boilerplate_classifier_keeps_a_table_of_records_in_and_at_the_end_of_the_article(heading, rows):
    footer = ["Magazine", "Customer Service", "Buy this issue"]
    # Inside the article: the table does not split it, so the prose after it stays too.
    doc = STRIP(Document.from_raw("a.txt", "\n".join([*ARTICLE[:2], heading, *rows, *ARTICLE[2:]])))
    assert [part for part in doc.text.split("\n") if part.strip()] == [*ARTICLE[:2], heading, *rows, *ARTICLE[2:]]
    # Closing the article: kept with it, while the footer after it goes.
    doc = STRIP(Document.from_raw("a.txt", "\n".join([*ARTICLE, heading, *rows, "Share", *footer])))
    assert [part for part in doc.text.split("\n") if part.strip()] == [*ARTICLE, heading, *rows]


@pytest.mark.parametrize("links", [
    ["15 Amazing Images of Stars", "11 Fascinating Facts About Our Milky Way Galaxy",
     "The 11 Biggest Unanswered Questions About Dark Matter"],      # headlines with a number are no records
    ["Home", "About Me/Contact", "Raising Boys", "Parenting Teens"],  # a menu
    ["2020 Mini JCW GP is a 300HP monster hatch", "Marcus De Guzman 2019-11-20 17:27:46",
     "Renault to challenge Xpander, Avanza with 7-seat 2020 Triber", "Marcus De Guzman 2019-11-20 12:57:32"],
])
def test_boilerplate_classifier_drops_link_lists_that_are_no_table_after_the_article(links):
    doc = STRIP(Document.from_raw("a.txt", "\n".join([*ARTICLE, *links])))
    assert [part for part in doc.text.split("\n") if part.strip()] == ARTICLE


def _comment_thread():
    lines = []
    for user, comment in (
            ("Milan Griffes", "Any update on how the Blattman et al. follow-up paper will affect the recommendation "
                              "we made last year, and is there a date by which you expect to have looked at it?"),
            ("Catherine", "We haven’t yet reviewed the paper, but we plan to consider it as part of our year-end "
                          "review of cash transfers, which we mentioned in our May blog post on new research."),
            ("Gary M", "Have you written anything about the trade-off between giving now and investing the money "
                       "to give it in the future, when the research may have improved a great deal?")):
        lines += [f"{user} on September 12, 2018 at 4:47 pm said:", comment, comment.replace("the", "a"),
                  comment.replace("we", "they")]
    return lines


@pytest.mark.parametrize("intro", [
    ARTICLE[:1],                                                    # one paragraph, lighter than the thread
    ARTICLE[:2],                                                    # heavy enough on its own
])
def test_boilerplate_classifier_keeps_the_article_before_a_heavier_comment_thread(intro):
    text = "\n".join([*MENU, HEADLINE, "September 10, 2018 | by Catherine", *intro, "Comments", *_comment_thread()])
    doc = Document.from_raw("a.txt", text)
    # The header stage records the headline's repeat; the article follows it.
    start = text.index(HEADLINE)
    doc.removed.append({"kind": "title", "rule": "title_repeat", "text": HEADLINE,
                        "raw_start": start, "raw_end": start + len(HEADLINE)})
    doc = STRIP(doc)
    kept = [part for part in doc.text.split("\n") if part.strip()]
    assert all(paragraph in kept for paragraph in intro)
    assert not any(line in kept for line in _comment_thread())


@pytest.mark.parametrize("factor, article_kept", [(4, True), (100, False)])
def test_boilerplate_classifier_takes_the_far_heavier_run_before_a_headline_repeated_after_the_article(
        factor, article_kept):
    card = [HEADLINE.split(" for ")[0], "Ingredients", "8-9 ripe pears, cored and peeled",
            "Remove from canner and allow to cool, and the jam will set within a day or two of the canning."]
    text = "\n".join([*MENU, *ARTICLE, *card, *MENU])
    doc = Document.from_raw("a.txt", text)
    start = text.index(card[0])
    doc.removed.append({"kind": "title", "rule": "title_repeat", "text": card[0],
                        "raw_start": start, "raw_end": start + len(card[0])})
    config = copy.deepcopy(CONFIG)
    config["boilerplate"]["classifier"]["before_headline_factor"] = factor
    doc = boilerplate.build(config)(doc)
    kept = [part for part in doc.text.split("\n") if part.strip()]
    assert all(paragraph in kept for paragraph in ARTICLE) is article_kept
    assert not any(line in kept for line in MENU)


def test_boilerplate_check_config_refuses_a_before_headline_factor_below_one():
    config = copy.deepcopy(CONFIG)
    config["boilerplate"]["classifier"]["before_headline_factor"] = 0.5
    with pytest.raises(ConfigError, match="before_headline_factor"):
        boilerplate.check_config(config)


@pytest.mark.parametrize("again, removed", [
    (" ".join(ARTICLE), True),                                      # the article again as one paragraph
    (" ".join(ARTICLE) + " Officials declined to comment.", True),  # four of five sentences printed before
    (" ".join(ARTICLE[1:]) + " Officials declined to comment.", False),  # three of four: new text
    (ARTICLE[1] + " The visit ended on Thursday with a banquet in the Great Hall of the People.", False),
    ("Mishustin met both Xi Jinping and Premier Li Qiang during the two days he spent in the Chinese capital.",
     False),                                                        # one sentence again (a pull quote)
])
def test_boilerplate_page_repeat_drops_a_paragraph_whose_sentences_the_page_printed_before(again, removed):
    metadata = ["Charlie Wood", "2019-11-19T08:57:40+01:00", "500", "250"]
    doc = STRIP(Document.from_raw("a.txt", "\n".join([*ARTICLE, *metadata, again, "international"])))
    assert (("page_repeat", again) in [(item["rule"], item["text"]) for item in doc.removed]) is removed
    if removed:
        # With the copy gone, the metadata around it is furniture after the article.
        assert [part for part in doc.text.split("\n") if part.strip()] == ARTICLE


def test_boilerplate_classifier_keeps_market_figures_closing_a_wire_story():
    figures = ["Spot gold XAU= added 0.1% to $1,472.19 an ounce.", "Copper CMCU3 rose 0.86% to $5,880.00 a tonne.",
               "Three-month aluminum on the London Metal Exchange CMAL3 lost 0.06% to $1,737.00 a tonne.",
               "(Graphic: Global assets in 2019 - here)", "(Graphic: Emerging markets in 2019 - here)"]
    footer = ["Apps", "Newsletters", "Advertise with Us", "Advertising Guidelines"]
    doc = STRIP(Document.from_raw("a.txt", "\n".join([*ARTICLE, *figures, "Share", *footer])))
    assert [part for part in doc.text.split("\n") if part.strip()] == [*ARTICLE, *figures]


JA_ARTICLE = [
    "Kindle書籍を読む場合は、一般的にスマホやタブレットなどのモバイル端末で読むことが多いと思います。",
    "特に困ったのが、起動ショートカットキーに関する設定。",
    "以下、その手順。",                                              # a short sentence: a character is a word
    "まずスタートメーニューからkindleのプログラムを探し、右クリック。",
    "これでようやく元の操作性を取り戻せました。",
]
JA_MENU = ["サイトマップ", "プライバシーポリシー", "免責事項", "お問い合わせ", "ソフトウェア一般"]
JA_LINKS = ["関連記事", "WordPressの記事更新にWindows Live Writerを試してみる", "Speccyのportable版",
            "日記、雑記 (8)", "Evernote (21)", "クラウドサービスその他 (5)"]
KO_ARTICLE = [
    "주말 드라마에서 악녀의 덫에 걸린 주인공의 이야기가 시청자들의 관심을 끌고 있다. "
    "이유리는 이번 작품에서 새로운 모습을 보여주었다.",
    "의외로 막장극에 잘 어울리는 배우는 남상미였다. 그녀는 차분한 연기로 극의 중심을 잡았다.",
    "방송 이후 시청률은 꾸준히 올라 지난주에는 자체 최고 기록을 세웠다.",
]
KO_MENU = ["엔터 미디어", "전체뉴스", "TV일반", "드라마", "예능", "영화", "가요"]


@pytest.mark.parametrize("menu, article, links", [
    (JA_MENU, JA_ARTICLE, JA_LINKS),                                # words not separated by spaces
    (KO_MENU, KO_ARTICLE, KO_MENU[::-1]),                           # a language with no stop-word list
])
def test_boilerplate_classifier_finds_the_article_without_stop_words(menu, article, links):
    doc = STRIP(Document.from_raw("a.txt", "\n".join([*menu, *article, *links])))
    assert [part for part in doc.text.split("\n") if part.strip()] == article


def rate_in_english(line: str) -> str:
    """The class the classifier gives ``line`` alone on a page rated with the English stop words."""
    classifier = boilerplate.LineClassifier(CONFIG["boilerplate"]["classifier"])
    english = [code for code, _ in classifier.stop_words].index("en")
    return classifier.rate(line, classifier.signals(line), english)[0]


@pytest.mark.parametrize("line, cls", [
    (JA_ARTICLE[0], boilerplate.GOOD),
    ("以下、その手順。", boilerplate.NEARGOOD),
    ("WordPressの記事更新にWindows Live Writerを試してみる", boilerplate.SHORT),
    ("プライバシーポリシー", boilerplate.SHORT),
])
def test_boilerplate_classifier_rates_chinese_and_japanese_lines_by_sentence_marks_and_width(line, cls):
    assert rate_in_english(line) == cls


@pytest.mark.parametrize("line, cls", [
    # The lead of a story scraped without its final mark: too long for a headline, dense as prose.
    ("Chelsea have this morning paid the £71.6million fee to the Spanish league to secure the world record "
     "signing of Athletic Bilbao goalkeeper Kepa Arrizabalaga", boilerplate.NEARGOOD),
    # Headlines, however long, stay headline-like.
    ("Man who could barely walk or breathe learns his new feather duvet is to blame", boilerplate.SHORT),
    ("Alberta energy minister calls for Parliament to return early to end CN Rail strike", boilerplate.SHORT),
    # Long, but a list of names and figures, not prose.
    ("Choreographer Jeong Hye Jin, Director Oh Kyeong Taek, Writer Kyeong Min Seon, Composer Kim Cheol Hwan, "
     "Art Director Park Dong Woo", boilerplate.SHORT),
])
def test_boilerplate_classifier_rates_a_long_sentence_without_final_mark_near_good(line, cls):
    assert rate_in_english(line) == cls


def test_boilerplate_classifier_keeps_an_unmarked_lead_before_the_article_and_drops_teasers():
    lead = ("Chelsea have this morning paid the £71.6million fee to the Spanish league to secure the world record "
            "signing of Athletic Bilbao goalkeeper Kepa Arrizabalaga")
    teasers = ["How I Slept with a Dog in Victoria Island For Money - Lagos Girl Talks Bad Romance",
               "Nigerian Lady Beaten And Disgraced For Allegedly Sleeping With Her Friend's Boyfriend"]
    doc = STRIP(Document.from_raw("a.txt", "\n".join([*MENU, "LinkNaija August 08, 2018", lead, *ARTICLE,
                                                      "Tags:", *teasers])))
    assert [part for part in doc.text.split("\n") if part.strip()] == [lead, *ARTICLE]
