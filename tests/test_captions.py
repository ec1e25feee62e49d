import copy

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipeline.config import load_config
from tests.conftest import local_pipeline
from transforms import captions
from transforms.document import Document
from transforms.errors import ConfigError
from transforms.stage import DOCS, DocumentStage

CONFIG = load_config()
RULES = captions.CaptionRules(CONFIG)
STRIP = captions.build(CONFIG)
BODY = "Russia and China are set to sign a series of bilateral agreements on Wednesday, officials said."


@pytest.mark.parametrize("line, rule", [
    ("Russian Prime Minister Mijal Mishustin and Chinese President Xi Jinping shake hands during a meeting at "
     "the Great Hall of the People in Beijing (Sputnik/Alexander Astafyev/REUTERS)", "credit_bracket"),
    ("Xi Jinping also advocated pushing cooperation in various fields to a higher level” "
     "(Sputnik/Alexander Astafyev/via REUTERS)", "credit_bracket"),
    ("Russian President Vladimir Putin (dcha) toasting his Chinese counterpart Xi Jinping during a reception at the "
     "Kremlin in Moscow, Russia. March 21, 2023. (Sputnik/Pavel Byrkin/Kremlin va Reuters)", "credit_bracket"),
    ("Russian Prime Minister Mijal Mishustin and Chinese Premier Li Qiang attend a signing ceremony in Beijing, "
     "China May 24, 2023. REUTERS/Thomas Peter/Pool", "credit_slash"),
    ("Russian PM Mikhail Mishustin (left) and Chinese Premier Li Qiang signed several agreements involving trade, "
     "agriculture, and sport, among others. PHOTO: REUTERS", "photo_label"),
    ("President Joe Biden speaks in the East Room of the White House. (AP Photo/Evan Vucci)", "credit_bracket"),
    ("A view of the harbour at dawn. Photo by Jane Doe/Getty Images", "photo_label"),
    ("Trump asked voters in Louisiana for a big win. Credit... Doug Mills/The New York Times", "photo_label"),
    ("Smoke rises over the city after the strike (Getty Images)", "credit_bracket"),
    ("FILE PHOTO: A view shows the Kremlin in Moscow, Russia, May 9, 2023.", "file_photo_start"),
    ("Image: NASA/JPL-Caltech", "photo_label_start"),
    ("Sheikh Mohammed bin Rashid Al Maktoum at the Dubai Airshow. Natalie Naccache | Bloomberg | Getty Images",
     "credit_slash"),
    ("A cyclist rides next to a blocked petrol plant of Senkata in the outskirts of La Paz, Bolivia, November 19, "
     "2019. © Reuters / David Mercado", "copyright_credit"),
    ("The summit of Everest seen from the north side at dawn. (c) Getty Images", "copyright_credit"),
])
def test_captions_finds_image_credits(line, rule):
    assert captions.find_caption(line, RULES)[0] == rule


@pytest.mark.parametrize("line", [
    "BEIJING, May 23 (Reuters) – Russia and China are set to sign a series of bilateral agreements.",
    "Li Hui is due to travel to Russia on Friday, Russian news agency TASS reported.",
    "The agency said the talks went well (Reuters)",
    "He posted a photo by the river and said the 24/7 service would resume.",
    "Trade reached $190 billion in 2022 (about 176,000 million euros), according to Chinese customs.",
    "The 9/11 commission published its report in 2004.",
    "Photos of the meeting were released by the Kremlin on Tuesday, officials said.",
    "Prince Andrew: BT and three universities abandon ties with duke | Sky News",
    "Revenue rose 4% | Shares fell 2% in Frankfurt trading on Tuesday.",
    "The © sign on the logo was dropped when the brand was sold, the company said.",
    "© 2019 Associated Press. All Rights Reserved.",                 # a copyright notice, not a caption
    "Shares rose 3% on Tuesday. © 2019 all rights reserved by the publisher.",
])
def test_captions_leaves_body_lines(line):
    assert captions.find_caption(line, RULES) is None


def test_captions_removes_caption_lines_whole_and_records_them():
    caption = "Novak attends a session of the Business Forum in Shanghai (Sputnik/Dmitry Astakhov/REUTERS)"
    raw = BODY + "\n\n" + caption + "\n\n" + BODY
    doc = STRIP(Document.from_raw("a.txt", raw))
    assert doc.text == BODY + "\n\n\n\n" + BODY
    assert doc.removed == [{"kind": "caption", "text": caption, "rule": "credit_bracket",
                            "raw_start": raw.index(caption), "raw_end": raw.index(caption) + len(caption)}]


def test_captions_takes_only_the_credit_tail_of_a_long_paragraph():
    long_paragraph = " ".join([BODY] * 8) + " REUTERS/Thomas Peter/Pool"
    doc = STRIP(Document.from_raw("a.txt", long_paragraph))
    assert doc.text.rstrip() == " ".join([BODY] * 8)
    assert doc.removed[0]["text"] == "REUTERS/Thomas Peter/Pool"


def test_captions_stage_in_a_pipeline():
    docs = [Document.from_raw("a.txt", BODY + "\n\nA rally in Paris. PHOTO: AFP"),
            Document.from_raw("b.txt", BODY)]
    with local_pipeline() as p:
        out = p | beam.Create(docs) | DocumentStage(captions.STAGE, captions.build, CONFIG)
        assert_that(out[DOCS] | beam.Map(lambda d: (d.source, [r["kind"] for r in d.removed])),
                    equal_to([("a.txt", ["caption"]), ("b.txt", [])]), label="removals")


@pytest.mark.parametrize("name, value", [("max_parts", "four"), ("max_part_words", 0), ("max_parts", True)])
def test_captions_check_config_names_a_bad_limit_of_the_rules_file(name, value):
    config = copy.deepcopy(CONFIG)
    config["files"][config["captions"]["rules_file"]][name] = value
    with pytest.raises(ConfigError) as error:
        captions.check_config(config)
    assert error.value.key.endswith(f".{name}")
