"""The batches the NER stage gives spaCy, for the bench's bare loops: a module of its own, so that the bare
limit's process imports nothing else of the bench."""

from __future__ import annotations

from typing import Iterable

from transforms.entities import text_weight


def char_batches(texts: Iterable[str], budget: int) -> Iterable[list[str]]:
    """The texts in the batches the NER stage gives spaCy: in order, at most ``budget`` characters each, a
    longer text alone (Beam's ``BatchElements`` weighing each document with ``entities.batch_weight``)."""
    batch: list[str] = []
    size = 0
    for text in texts:
        weight = text_weight(text)
        if batch and size + weight > budget:
            yield batch
            batch, size = [], 0
        batch.append(text)
        size += weight
    if batch:
        yield batch
