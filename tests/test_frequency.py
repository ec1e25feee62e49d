import logging
from pathlib import Path
from typing import Iterator

import pytest
import regex
import wordfreq

from tests.conftest import SEEDS
from transforms import frequency
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


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Path]:
    """Tables built and read in ``tmp_path`` by a process with no table yet; as before afterwards."""
    frequency.use_cache(str(tmp_path))
    frequency_table.cache_clear()
    yield tmp_path
    frequency.use_cache(None)
    frequency_table.cache_clear()


def _unreachable(*args: object) -> None:
    raise AssertionError("the table was built again, not read from the cache")


def test_frequency_table_read_from_the_cache_is_the_built_table(cache: Path, monkeypatch: pytest.MonkeyPatch):
    built = frequency_table("pt")
    (saved,) = cache.glob("pt-*.npz")
    frequency_table.cache_clear()
    monkeypatch.setattr(frequency.FrequencyTable, "build", classmethod(_unreachable))
    read = frequency_table("pt")
    assert read is not built
    assert len(read) == len(built) > 200_000
    words = OTHERS["pt"] + ["de", "que", "governo", "eleições", "Qzxvaçãoz"]
    assert read.zipf(words) == built.zipf(words)
    assert read.zipf(words) == [wordfreq.zipf_frequency(word, "pt") if word.islower() else 0.0 for word in words]
    assert saved.exists() and not list(cache.glob("*.tmp"))


def test_frequency_table_replaces_an_unreadable_cache_file(cache: Path, caplog: pytest.LogCaptureFixture):
    frequency_table("id")
    (saved,) = cache.glob("id-*.npz")
    saved.write_bytes(saved.read_bytes()[:1000])  # cut short, as by a full disk
    frequency_table.cache_clear()
    with caplog.at_level(logging.WARNING, logger=frequency.__name__):
        table = frequency_table("id")
    assert "unreadable" in caplog.text and "building it again" in caplog.text
    assert table.frequency("yang") == wordfreq.get_frequency_dict("id", "best")["yang"]
    frequency_table.cache_clear()
    assert frequency.FrequencyTable.load(saved).frequency("yang") == table.frequency("yang")


def test_frequency_table_without_a_writable_cache_is_built(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    frequency.use_cache(str(blocked / "newsbeam"))
    frequency_table.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger=frequency.__name__):
            table = frequency_table("id")
    finally:
        frequency.use_cache(None)
        frequency_table.cache_clear()
    assert "not cached" in caplog.text
    assert table.frequency("yang") == wordfreq.get_frequency_dict("id", "best")["yang"]
