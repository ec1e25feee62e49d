"""The pipeline graph, assembled in one function from the stages in ``transforms``.

The same graph runs bounded (a batch over the matched files) or, with ``streaming``, unbounded on a
streaming runner: the glob is polled, documents are put in fixed windows as they are read, and
every corpus-wide step (repeated lines, corpus names, name variants, relations, counters) and the
written files are then per window.
"""

from __future__ import annotations

from typing import Any, Callable

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from transforms import boilerplate, captions, header, layout
from transforms import canonical, entities, language
from transforms.document import Document
from transforms.read import ReadDocuments
from transforms.relations import RelateDocuments
from transforms.repair import STAGE as REPAIR, build as build_repair
from transforms.repair_glued import CorpusNames
from transforms.spill import SpillDocuments
from transforms.stage import DOCS, REJECTED, DocumentStage, per_window
from transforms.summary import MergeCounters, outcome_stats, read_stats
from transforms.write import COUNTERS, RECORDS, REJECTED_FILES, WriteOutputs


def _stamp(doc: Document, provenance: dict[str, str]) -> Document:
    doc.pipeline = provenance
    return doc


def build(root: beam.Pipeline, input_pattern: str, output_dir: str, config: dict[str, Any],
          provenance: dict[str, str], streaming: bool = False) -> None:
    """Add newsbeam's graph to ``root``: read, clean, repair, tag, relate, write.

    ``streaming``: poll ``input_pattern`` and window the documents (``config["streaming"]``); the
    files in ``output_dir`` are then written per window, named after it.
    """
    # Where a batch's documents wait for a result of the whole collection: in files, not in memory
    # (see transforms/spill.py). Streaming windows are small and wait where the runner keeps them.
    spill_dir = None if streaming else FileSystems.join(output_dir, ".spill")

    def hold(key: Callable[[Document], int] | None = None) -> beam.PTransform | None:
        return None if spill_dir is None else SpillDocuments(spill_dir, key=key)

    read = root | "Read" >> ReadDocuments(input_pattern, config["read"], config["streaming"] if streaming else None,
                                          hold())
    docs = read[DOCS]
    rejected = [read[REJECTED]]

    def wait(label: str) -> None:
        nonlocal docs
        if spill_dir is not None:
            docs = docs | label >> hold()

    def apply(label: str, stage: beam.PTransform) -> None:
        nonlocal docs
        outputs = docs | label >> stage
        docs = outputs[DOCS]
        rejected.append(outputs[REJECTED])

    # Cleaning: header metadata, boilerplate lines, photo captions.
    apply("ExtractHeader", DocumentStage(header.STAGE, header.build, config))
    apply("StripCaptions", DocumentStage(captions.STAGE, captions.build, config))
    repeated = docs | "FindRepeatedLines" >> boilerplate.RepeatedLines(config)
    wait("SpillUntilRepeatedLines")
    apply("StripBoilerplate", DocumentStage(boilerplate.STAGE, boilerplate.build, config,
                                            beam.pvalue.AsDict(repeated)))
    apply("LayOutParagraphs", DocumentStage(layout.STAGE, layout.build, config))
    # Repair: mojibake, glued words, stray punctuation, machine-translation artefacts.
    names = docs | "FindCorpusNames" >> CorpusNames(config["repair"]["glued"]["corpus_min_docs"])
    wait("SpillUntilCorpusNames")
    apply("RepairTypos", DocumentStage(REPAIR, build_repair, config, beam.pvalue.AsDict(names)))
    # Tagging: language, entities, canonical names.
    apply("DetectLanguage", DocumentStage(language.STAGE, language.build, config))
    apply("TagEntities", entities.TagEntities(config, hold(entities.same_text)))
    if config["entities"]["enabled"]:
        # Without NER there are no names to make canonical, nor run-wide variants to wait for.
        apply("CanonicalizeEntities", DocumentStage(canonical.STAGE, canonical.build, config))
        apply("ResolveNameVariants", canonical.ResolveVariants(config, hold()))
    # Relations: duplicates, rewrites, stories.
    docs = docs | "RelateDocuments" >> RelateDocuments(config, hold())

    records = docs | "StampProvenance" >> beam.Map(_stamp, provenance)
    all_rejected = rejected | "CollectRejected" >> beam.Flatten()
    counted = {"Read": read[DOCS] | "CountRead" >> beam.Map(read_stats),
               "ReadRejected": read[REJECTED] | "CountReadRejected" >> beam.Map(read_stats),
               "Records": records | "CountRecords" >> beam.Map(outcome_stats),
               "Rejected": all_rejected | "CountRejected" >> beam.Map(outcome_stats)}
    # Each kind is summed where it is counted (Beam lifts a combine into the step before it), so only
    # four partial sums meet: flattened first, a batch of 100,000 records held every record's counters
    # in one buffer at the end of the run, its peak. Per window when streaming, where an empty window
    # has no counters (a batch always has a line).
    partial = [counts | f"Merge{kind}" >> per_window(beam.CombineGlobally(MergeCounters()), counts)
               for kind, counts in counted.items()]
    stats = partial | "FlattenCounters" >> beam.Flatten()
    counters = stats | "MergeCounters" >> per_window(beam.CombineGlobally(MergeCounters()), stats)
    outputs = {RECORDS: records, REJECTED_FILES: all_rejected, COUNTERS: counters}
    _ = outputs | "Write" >> WriteOutputs(output_dir, spill_dir)
