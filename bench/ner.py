"""The NER stage measured: throughput inside Beam against a bare ``nlp.pipe`` loop, and accuracy.

Throughput. The English article bodies of the Article Extraction Benchmark (``../shared/data/aeb``,
ground-truth.json; language found by the pipeline's own detector) go through
  * the bare limit: ``load_pipeline`` (the same spaCy components and alias ruler) + one ``nlp.pipe``
    loop collecting the same spans, in this process;
  * the stage inside Beam: ``Create(documents) | TagEntities(config) | count``, on the local runner
    with one worker, in memory, minus the same pipeline without ``TagEntities`` (Beam's start-up);
rounds alternate and the best time of each is kept, in wall and in CPU seconds (the in-memory
runner runs in this process, so its CPU time counts all of Beam's threads; on a shared, loaded
machine the CPU figure is the steadier one). The stage's docs/s over the bare loop's is the ratio
to quote (both include loading the model once).

Accuracy. bench/data/ner_gold.yaml holds hand-checked entities (PERSON, NORP, FAC, ORG, GPE, LOC)
of six of those bodies. Entity-level micro precision/recall/F1 (a hit is the same span and label)
of: bare spaCy (full pipeline, all components) on the body; bare spaCy + canonicalisation (label
fixes); the whole newsbeam pipeline run on the body as an input file (cleaning, repair, language,
NER, canonical), its entities located by their raw offsets, scored against all gold mentions and
against those outside the text cleaning removed (a dateline "HANOI, Vietnam (AP) —" goes to the
record's ``dateline`` field, so its names are not in ``text``). "strict" compares spans exactly;
"lenient" first drops a leading "the"/"The" and a trailing possessive from both sides.

    .venv/bin/python bench/ner.py [--rounds 2] [--skip-throughput] [--skip-accuracy]

A script, not a test: it prints; timings vary with the machine's load, ratios less so.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

import orjson
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import apache_beam as beam  # noqa: E402
from apache_beam.ml.inference.base import PredictionResult  # noqa: E402

from bench.batches import char_batches  # noqa: E402
from pipeline.cli import main as newsbeam  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.runners import CachedViewOptions, make_runner  # noqa: E402
from transforms import canonical, entities  # noqa: E402
from transforms.document import Document  # noqa: E402
from transforms.language import LanguageDetector  # noqa: E402
from transforms.stage import DOCS  # noqa: E402

AEB = ROOT.parent / "shared" / "data" / "aeb" / "ground-truth.json"
GOLD = ROOT / "bench" / "data" / "ner_gold.yaml"
Span = tuple[int, int, str]


def english_bodies(config: dict[str, Any]) -> dict[str, str]:
    """AEB gold article bodies the pipeline's language detector calls English, by page id."""
    pages = orjson.loads(AEB.read_bytes())
    detect = LanguageDetector(config["language"]["seed"], config["language"]["max_chars"]).detect
    return {page: item["articleBody"] for page, item in sorted(pages.items())
            if detect(item["articleBody"])[0] == "en"}


def model_settings(config: dict[str, Any]) -> tuple[str, list[str], int, list[dict[str, str]]]:
    settings = config["entities"]
    model = settings["models"]["en"]
    aliases = config["files"][settings["canonical"]["aliases_file"]]["aliases"]
    patterns = entities.alias_patterns(aliases) if "en" in settings["alias_patterns"] else []
    return model["name"], model["components"], settings["max_chars"], patterns


def clock() -> tuple[float, float]:
    """Wall and CPU seconds of this process (all its threads: the in-memory runner runs here too)."""
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> tuple[float, float]:
    now = clock()
    return now[0] - start[0], now[1] - start[1]


def time_bare(config: dict[str, Any], texts: list[str]) -> tuple[tuple[float, float], tuple[float, float], int]:
    """(wall, CPU) seconds to load the pipeline and of one ``nlp.pipe`` loop, and entities found."""
    name, components, max_chars, patterns = model_settings(config)
    start = clock()
    nlp = entities.load_pipeline(name, components, max_chars, patterns)
    load = since(start)
    start = clock()
    found = sum(len(parsed.ents) for batch in char_batches(texts, config["entities"]["batch_chars"])
                for parsed in nlp.pipe(batch, batch_size=len(batch)))
    return load, since(start), found


def time_beam(config: dict[str, Any], docs: list[Document], with_ner: bool) -> tuple[float, float]:
    """(wall, CPU) seconds of a one-worker in-memory Beam run over ``docs``, with or without NER."""
    options = CachedViewOptions(["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    root = beam.Pipeline(runner=make_runner(options), options=options)
    created = root | "Create" >> beam.Create(docs)
    if with_ner:
        created = (created | "TagEntities" >> entities.TagEntities(config))[DOCS]
    _ = (created | "Count" >> beam.Map(lambda doc: len(doc.entities))
         | "Sum" >> beam.CombineGlobally(sum))
    start = clock()
    root.run().wait_until_finish()
    return since(start)


def throughput(config: dict[str, Any], rounds: int) -> None:
    bodies = english_bodies(config)
    texts = list(bodies.values())
    docs = []
    for page, text in bodies.items():
        doc = Document.from_raw(f"aeb/{page}.txt", text)
        doc.language = "en"
        docs.append(doc)
    chars = sum(map(len, texts))
    best: dict[str, list[float]] = {}
    for _ in range(rounds):
        load, pipe, found = time_bare(config, texts)
        total = (load[0] + pipe[0], load[1] + pipe[1])
        for name, value in (("bare_load", load), ("bare_pipe", pipe), ("bare_total", total),
                            ("beam_ner", time_beam(config, docs, True)),
                            ("beam_empty", time_beam(config, docs, False))):
            kept = best.setdefault(name, [float("inf"), float("inf")])
            best[name] = [min(kept[0], value[0]), min(kept[1], value[1])]
    n = len(docs)
    print(f"throughput: {n} English AEB bodies, {chars} chars, {found} entities (bare), best of {rounds} rounds,"
          f" one worker")
    for index, kind in enumerate(("wall", "CPU")):
        bare, pipe = best["bare_total"][index], best["bare_pipe"][index]
        stage = best["beam_ner"][index] - best["beam_empty"][index]
        print(f"  [{kind}] bare nlp.pipe loop: load {best['bare_load'][index]:.2f}s + pipe {pipe:.2f}s"
              f" = {bare:.2f}s -> {n / bare:.2f} docs/s")
        print(f"  [{kind}] Beam with TagEntities {best['beam_ner'][index]:.2f}s, without {best['beam_empty'][index]:.2f}s"
              f" -> NER stage {stage:.2f}s = {n / stage:.2f} docs/s")
        print(f"  [{kind}] ratio stage/bare (both incl. model load): {bare / stage:.3f};"
              f" whole Beam run incl. start-up: {bare / best['beam_ner'][index]:.3f}")


# --- accuracy ---------------------------------------------------------------------------------

def gold_spans(text: str, mentions: Iterable[list[str]]) -> list[Span]:
    """Locate each hand-checked mention (in text order) after the previous one, as whole words."""
    spans: list[Span] = []
    cursor = 0
    for surface, label in mentions:
        match = re.compile(rf"(?<!\w){re.escape(surface)}(?!\w)").search(text, cursor)
        if match is None:
            raise ValueError(f"gold mention {surface!r} not found after offset {cursor}")
        spans.append((match.start(), match.end(), label))
        cursor = match.end()
    return spans


_LEADING = re.compile(r"^(?:the|The|THE)\s+")
_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")


def lenient(text: str, span: Span) -> Span:
    """The span without a leading determiner or a trailing possessive."""
    start, end, label = span
    piece = text[start:end]
    lead = _LEADING.match(piece)
    if lead:
        start += lead.end()
    tail = _POSSESSIVE.search(text[start:end])
    if tail and tail.start() > 0:
        end = start + tail.start()
    return start, end, label


def counts(predicted: Iterable[Span], gold: Iterable[Span]) -> tuple[int, int, int]:
    pred, true = set(predicted), set(gold)
    return len(pred & true), len(pred), len(true)


def prf(hits: int, predicted: int, gold: int) -> str:
    precision = hits / predicted if predicted else 0.0
    recall = hits / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f"P {precision:.3f}  R {recall:.3f}  F1 {f1:.3f}  (hits {hits}, predicted {predicted}, gold {gold})"


def pipeline_spans(config_overrides: list[str], bodies: dict[str, str]) -> tuple[dict[str, list[Span]],
                                                                                 dict[str, list[tuple[int, int]]]]:
    """Entities of newsbeam's records for each body by raw offsets (the body is the raw file), and
    the raw extents cleaning removed from each (datelines, bylines, captions, ...)."""
    with tempfile.TemporaryDirectory() as work:
        inputs, output = Path(work, "in"), Path(work, "out")
        inputs.mkdir()
        for page, text in bodies.items():
            (inputs / f"{page}.txt").write_text(text, "utf-8")
        code = newsbeam(["run", "--input", str(inputs / "*.txt"), "--output", str(output), "--quiet",
                         "--direct_num_workers=1", "--direct_running_mode=in_memory", *config_overrides])
        if code != 0:
            raise RuntimeError(f"newsbeam run exited {code}")
        found: dict[str, list[Span]] = {page: [] for page in bodies}
        removed: dict[str, list[tuple[int, int]]] = {page: [] for page in bodies}
        for path in sorted(output.glob("records-*.jsonl")):
            for line in path.read_bytes().splitlines():
                record = orjson.loads(line)
                page = Path(record["source"]).stem
                found[page] = [(e["raw_start"], e["raw_end"], e["label"]) for e in record["entities"]]
                removed[page] = [(r["raw_start"], r["raw_end"]) for r in record["removed"]]
        return found, removed


def accuracy(config: dict[str, Any], overrides: list[str]) -> None:
    import spacy

    gold_data = yaml.safe_load(GOLD.read_text("utf-8"))["articles"]
    pages = orjson.loads(AEB.read_bytes())
    bodies = {page: pages[page]["articleBody"] for page in gold_data}
    labels = {"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC"}
    gold = {page: gold_spans(bodies[page], mentions) for page, mentions in gold_data.items()}

    name = config["entities"]["models"]["en"]["name"]
    full = spacy.load(name)
    canonicalize = canonical.build(config)
    keep = frozenset(config["entities"]["labels"])
    systems: dict[str, dict[str, list[Span]]] = {"bare spaCy (full pipeline)": {},
                                                  "bare spaCy + canonical label fixes": {}}
    for page, text in bodies.items():
        spans = [(e.start_char, e.end_char, e.label_) for e in full(text).ents]
        systems["bare spaCy (full pipeline)"][page] = spans
        doc = Document.from_raw(page, text)
        doc = canonicalize(entities.attach_entities(keep, PredictionResult(doc, spans, name)))
        systems["bare spaCy + canonical label fixes"][page] = [(e["start"], e["end"], e["label"]) for e in doc.entities]
    systems["newsbeam pipeline (clean, repair, NER, canonical)"], removed = pipeline_spans([f"--set={item}" for item in overrides], bodies)
    kept = {page: [s for s in spans if not any(a <= s[0] and s[1] <= b for a, b in removed[page])]
            for page, spans in gold.items()}

    total_gold = sum(len(spans) for spans in gold.values())
    dropped = total_gold - sum(len(spans) for spans in kept.values())
    print(f"accuracy: {len(gold)} AEB articles, {total_gold} hand-checked mentions, labels {sorted(labels)};"
          f" {dropped} of them in text the pipeline's cleaning removed (datelines etc.)")
    rows = [(system, found, gold) for system, found in systems.items()]
    rows.append(("newsbeam pipeline, gold outside removed text", systems[rows[-1][0]], kept))
    for system, found, reference in rows:
        for mode in ("strict", "lenient"):
            hits = predicted = true = 0
            for page, text in bodies.items():
                pred = [s for s in found[page] if s[2] in labels]
                ref = reference[page]
                if mode == "lenient":
                    pred, ref = [lenient(text, s) for s in pred], [lenient(text, s) for s in ref]
                h, p, t = counts(pred, ref)
                hits, predicted, true = hits + h, predicted + p, true + t
            print(f"  {system:<52} {mode:<8} {prf(hits, predicted, true)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    config = load_config(overrides=args.overrides)
    if not args.skip_accuracy:
        accuracy(config, args.overrides)
    if not args.skip_throughput:
        throughput(config, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
