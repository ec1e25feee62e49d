"""Run counters: per-document counts merged into the run summary, the same on every runner.

Counters are computed from the documents themselves and merged with a CombineFn, so
``summary.json`` does not depend on whether a runner reports Beam Metrics.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

import apache_beam as beam

from transforms.document import Document, Rejection


def read_stats(doc: Document | Rejection) -> Counter:
    """Counted once for every input that reading produced: the left side of the accounting."""
    return Counter({"documents_in": 1})


def outcome_stats(item: Document | Rejection) -> Counter:
    """What one document became: a record with its edits and entities, or a rejection."""
    stats: Counter = Counter()
    if isinstance(item, Rejection):
        stats["rejected"] += 1
        stats[f"rejected_by.{item.stage}.{item.reason}"] += 1
        return stats
    stats["records"] += 1
    stats["text_chars"] += len(item.text)
    for removal in item.removed:
        stats[f"removed.{removal['kind']}.{removal['rule']}"] += 1
    for repair in item.repairs:
        stats[f"repairs.{repair['kind']}"] += 1
    for entity in item.entities:
        stats[f"entities.{entity['label']}"] += 1
    stats[f"languages.{item.language or 'und'}"] += 1
    if item.ner:
        stats[f"ner.{item.ner}"] += 1
    if item.mt_suspect:
        stats["mt_suspect"] += 1
    for relation, value in (("duplicate_of", item.duplicate_of), ("rewrite_of", item.rewrite_of),
                            ("story_id", item.story_id)):
        if value is not None:
            stats[f"clusters.{relation}.{value}"] += 1
    return stats


class MergeCounters(beam.CombineFn):
    """Sum ``Counter`` dicts (associative and commutative, so combiner lifting applies)."""

    def create_accumulator(self) -> Counter:
        return Counter()

    def add_input(self, accumulator: Counter, element: Counter) -> Counter:
        accumulator.update(element)
        return accumulator

    def merge_accumulators(self, accumulators: Iterable[Counter]) -> Counter:
        merged: Counter = Counter()
        for accumulator in accumulators:
            merged.update(accumulator)
        return merged

    def extract_output(self, accumulator: Counter) -> dict[str, int]:
        return dict(sorted(accumulator.items()))


def nest(counters: dict[str, int]) -> dict[str, Any]:
    """Turn flat ``a.b.c`` counters into the nested sections of ``summary.json``.

    Cluster counters (``clusters.<relation>.<id>``) become size distributions per relation.
    """
    summary: dict[str, Any] = {"documents_in": 0, "records": 0, "rejected": 0}
    cluster_sizes: dict[str, Counter] = {}
    for key, value in counters.items():
        parts = key.split(".", 2)
        if parts[0] == "clusters":
            cluster_sizes.setdefault(parts[1], Counter())[parts[2]] += value
            continue
        node = summary
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    summary["clusters"] = {}
    for relation, sizes in sorted(cluster_sizes.items()):
        # A duplicate_of/rewrite_of cluster also holds its canonical member, which points nowhere.
        extra = 0 if relation == "story_id" else 1
        distribution = Counter(size + extra for size in sizes.values())
        summary["clusters"][relation] = {
            "clusters": len(sizes),
            "size_distribution": {str(size): count for size, count in sorted(distribution.items())},
        }
    return summary
