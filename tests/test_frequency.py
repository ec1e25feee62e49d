import regex
import wordfreq

from tests.conftest import SEEDS
from transforms.frequency import frequency_table, zipf_frequencies, zipf_frequency

# Words as the relation stages meet them: capitalised, accented, with digits and apostrophes, and unknown.
OTHERS = {
    "en": ["G7", "COVID-19", "O'Brien", "U.S.", "2023", "1,500", "Jinpingoffered", "Zelenskyy", "Astafyev", "ai"],
    "de": ["Straße", "Bundesregierung", "Müller", "Übersetzung", "fünf", "1990er", "Scholz", "Zwrtlbrmpf"],
    "ru": ["Москва", "Путин", "правительство", "ЕС", "2022", "Ёлка", "Щщыъйхв"],
    "pt": ["ação", "Lula", "São", "não", "Brasília", "Qzxvaçãoz"],
}


def test_frequency_zipf_is_wordfreqs_for_every_word_of_the_seeds_and_harder_words():
    seed_words = sorted({word for path in SEEDS.glob("*.txt")
                         for word in regex.findall(r"[\p{L}\p{N}'’.,-]+", path.read_text(encoding="utf-8"))})
    assert len(seed_words) > 900
    for language, words in {"en": seed_words + OTHERS["en"], **{k: v for k, v in OTHERS.items() if k != "en"}}.items():
        expected = [wordfreq.zipf_frequency(word, language) for word in words]
        assert zipf_frequencies(words, language) == expected, language
        assert [zipf_frequency(word, language) for word in words] == expected, language
        assert any(value == 0.0 for value in expected) and any(value > 4 for value in expected), language


def test_frequency_table_keeps_each_listed_word_once():
    english = frequency_table("en")
    assert len(english) == len(wordfreq.get_frequency_dict("en", "best"))
    assert english.frequency("the") == wordfreq.get_frequency_dict("en", "best")["the"]
    assert english.frequency("qzxqzxqzx") is None
