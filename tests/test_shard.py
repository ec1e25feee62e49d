import os
import subprocess
import sys

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import ROOT, local_pipeline
from transforms.shard import SHARD_BYTES, SHARDS, ByKeyShard, shard_of, shards_for

# Blocking keys as the relations make them: salient words by language, LSH bands, ranks.
KEYS = ["en:putin", "en:summit", "de:gipfel", (3, b"\x01\x02\x03\x04"), (0, "2023-05-24", "doc-17")]


def test_shard_of_is_the_same_in_every_process_and_within_range():
    script = f"from transforms.shard import shard_of; print([shard_of(k, 4) for k in {KEYS!r}])"
    runs = {subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert runs == {f"{[shard_of(key, 4) for key in KEYS]}\n"}
    assert {shard_of(f"en:word{i}", 4) for i in range(100)} == {0, 1, 2, 3}


def test_shard_shards_for_gives_one_part_per_shard_bytes_of_input_up_to_shards():
    assert [shards_for(size) for size in (0, 9_579_277, SHARD_BYTES, SHARD_BYTES + 1)] == [1, 1, 1, 2]
    # The 10,000- and 100,000-document bench corpora.
    assert [shards_for(93_470_000), shards_for(935_000_000)] == [3, SHARDS]


@pytest.mark.parametrize("flags, parts", [((), SHARDS), (("--group_shards=1",), 1), (("--group_shards=3",), 3)])
def test_shard_by_key_shard_groups_every_key_whole_in_the_pipelines_parts(flags, parts):
    words = "the summit in moscow the leaders met at the summit in moscow on tuesday".split()
    with local_pipeline(*flags) as p:
        grouped = (p | beam.Create([(word, i) for i, word in enumerate(words)])
                   | "Group" >> ByKeyShard(lambda: beam.GroupByKey()
                                           | beam.MapTuple(lambda word, at: (word, sorted(at)))))
        expected = {}
        for i, word in enumerate(words):
            expected.setdefault(word, []).append(i)
        assert_that(grouped, equal_to(list(expected.items())), label="CheckGroups")
    steps = {label.split("/")[1] for label in p.applied_labels if label.startswith("Group/")}
    assert steps == ({"Whole"} if parts == 1 else {"Split", "Gather", *(f"Shard{i}" for i in range(parts))})


def test_shard_by_key_shard_joins_inputs_by_key():
    with local_pipeline() as p:
        features = p | "Features" >> beam.Create([("doc-1", "sig-a"), ("doc-2", "sig-b"), ("doc-3", "sig-c")])
        copies = p | "Copies" >> beam.Create([("doc-2", "doc-1"), ("doc-3", "doc-1")])
        joined = ({"features": features, "copies": copies}
                  | ByKeyShard(lambda: beam.CoGroupByKey()
                               | beam.MapTuple(lambda doc, g: (doc, list(g["features"]), list(g["copies"])))))
        assert_that(joined, equal_to([("doc-1", ["sig-a"], []), ("doc-2", ["sig-b"], ["doc-1"]),
                                      ("doc-3", ["sig-c"], ["doc-1"])]), label="CheckJoin")
