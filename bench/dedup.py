"""Duplicate detection: syndication precision/recall, and how the dedup stage scales.

``syndication``: every seed and every AEB gold body of at least 150 words is a wire story; each gets
two syndicated copies the way other sites print it — their own header and footer furniture, a photo
caption inside the body, house-style swaps (quotes, "percent", "U.S."), two words inserted and, in
one copy, the last paragraph cut. The dedup stage alone runs over originals and copies (raw, before
cleaning, so harder than inside the pipeline; ``--pipeline`` runs the whole ``newsbeam run``
instead) and pairwise precision/recall of "same duplicate cluster" vs "copies of one story" is printed.

``scale``: N generated documents (about 300 words drawn from wordfreq's English list, 10% of them
lightly edited copies of another) through the duplicate relation (signatures, ``FindDuplicates``, the
label join) on the in-process runner, each size in a fresh process; it prints the wall time of the
run, of the same pipeline without dedup, the difference (the dedup stage) and the process's peak RSS. A script, not a test: it prints.

    .venv/bin/python bench/dedup.py syndication [--set dedup.threshold=0.7]
    .venv/bin/python bench/dedup.py syndication --pipeline /tmp/syndication   # cleaning stages first
    .venv/bin/python bench/dedup.py scale --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import apache_beam as beam  # noqa: E402
import wordfreq  # noqa: E402

from pipeline.config import load_config  # noqa: E402
from pipeline.runners import CachedViewOptions, make_runner  # noqa: E402
from transforms.dedup import DUPLICATES, AttachRelations, FindDuplicates, rank, text_signature  # noqa: E402
from transforms.document import Document  # noqa: E402

GOLD = ROOT.parent / "shared" / "data" / "aeb" / "ground-truth.json"
HEADERS = ["Home | World | Asia | Business", "WORLD NEWS\nBy Agency Staff", "Menu\nSearch\nSign in",
           "Breaking News | Live TV | Newsletters"]
FOOTERS = ["Share this:\nFacebook\nTwitter\nEmail", "© 2023 The Daily Courier. All rights reserved.",
           "Read more:\nSubscribe to our newsletter\nLeave a Comment", "Related Articles\nMost Popular"]
CAPTIONS = ["Officials attend a meeting in the capital on Tuesday. REUTERS/Staff Photographer",
            "FILE PHOTO: A general view of the city centre, May 2023. (AFP)",
            "People walk past the building on Monday (Photo: Getty Images)"]
SWAPS = [(" percent", "%"), ("“", '"'), ("”", '"'), ("’", "'"), ("U.S.", "US"), (" on Tuesday", " Tuesday")]


def _pipeline() -> beam.Pipeline:
    options = CachedViewOptions(["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    return beam.Pipeline(runner=make_runner(options), options=options)


def syndicated_copy(body: str, rng: random.Random, cut_last: bool) -> str:
    """A copy of ``body`` as another site prints it."""
    paragraphs = [p for p in body.split("\n") if p.strip()]
    if cut_last and len(paragraphs) > 3:
        paragraphs = paragraphs[:-1]
    paragraphs.insert(min(2, len(paragraphs)), rng.choice(CAPTIONS))
    text = "\n\n".join(paragraphs)
    for old, new in rng.sample(SWAPS, 3):
        text = text.replace(old, new)
    words = text.split(" ")
    for position in rng.sample(range(len(words)), 2):
        words[position] = rng.choice(["reportedly", "also", "now"]) + " " + words[position]
    return f"{rng.choice(HEADERS)}\n\n{' '.join(words)}\n\n{rng.choice(FOOTERS)}"


def syndication_corpus() -> tuple[list[Document], dict[str, int]]:
    """Originals and two syndicated copies of each, with the true story of every document's source."""
    rng = random.Random(20230524)
    bodies = [path.read_text("utf-8") for path in sorted((ROOT / "seeds").glob("*.txt"))]
    gold = orjson.loads(GOLD.read_bytes())
    bodies += [item["articleBody"] for _, item in sorted(gold.items()) if len(item["articleBody"].split()) >= 150]
    docs, truth = [], {}
    for story, body in enumerate(bodies):
        for copy in range(3):
            text = body if copy == 0 else syndicated_copy(body, rng, cut_last=copy == 2)
            doc = Document.from_raw(f"site{copy}_{story:03d}.txt", text, published=f"2023-05-{24 + copy:02d}")
            docs.append(doc)
            truth[doc.source] = story
    return docs, truth


def _deduplicate(docs: beam.PCollection, config: dict) -> beam.PCollection:
    """The duplicate relation as the pipeline finds it (signatures, FindDuplicates, the label join), alone."""
    signatures = docs | "Signatures" >> beam.Map(lambda d: (rank(d), text_signature(d.text, config["dedup"])))
    return ({"docs": docs, "duplicates": signatures | "FindDuplicates" >> FindDuplicates(config)}
            | "Label" >> AttachRelations({"duplicates": DUPLICATES}))


def syndication(overrides: list[str]) -> None:
    """The dedup stage alone over the raw copies."""
    docs, truth = syndication_corpus()
    with _pipeline() as p:
        labels = (_deduplicate(p | beam.Create(docs), load_config(overrides=overrides))
                  | beam.Map(lambda d: (d.source, d.id, d.duplicate_of or d.id)))
        _ = labels | beam.combiners.ToList() | beam.Map(_score_syndication, truth)


def syndication_pipeline(overrides: list[str], workdir: Path) -> None:
    """The whole ``newsbeam run`` (cleaning first) over the copies written as files."""
    docs, truth = syndication_corpus()
    inputs = workdir / "input"
    inputs.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        (inputs / doc.source).write_text(doc.text, "utf-8")
    command = [str(ROOT / ".venv" / "bin" / "newsbeam"), "run", "--input", str(inputs / "*.txt"),
               "--output", str(workdir / "output"), "--quiet"] + [f"--set={item}" for item in overrides]
    subprocess.run(command, check=True)
    records = [orjson.loads(line) for path in sorted((workdir / "output").glob("records-*.jsonl"))
               for line in path.read_bytes().splitlines() if line]
    _score_syndication([(Path(r["source"]).name, r["id"], r["duplicate_of"] or r["id"]) for r in records], truth)


def _score_syndication(labels: list[tuple[str, str, str]], truth: dict[str, int]) -> None:
    """Pairwise precision and recall of "same duplicate cluster" against "copies of one story"."""
    story = {doc_id: truth[source] for source, doc_id, _ in labels}
    cluster = {doc_id: canonical for _, doc_id, canonical in labels}
    tp = fp = fn = 0
    for a, b in itertools.combinations(sorted(cluster), 2):
        same_truth, same_found = story[a] == story[b], cluster[a] == cluster[b]
        tp += same_truth and same_found
        fp += same_found and not same_truth
        fn += same_truth and not same_found
    print(f"syndication: {len(set(story.values()))} stories, {len(cluster)} documents, "
          f"{tp + fn} true duplicate pairs")
    print(f"pairwise precision {tp / max(tp + fp, 1):.4f}  recall {tp / max(tp + fn, 1):.4f}  "
          f"(tp {tp}, fp {fp}, fn {fn})")


_VOCABULARY = wordfreq.top_n_list("en", 20000)
_WEIGHTS = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(_VOCABULARY))))


def _original_text(index: int) -> str:
    rng = random.Random(index)
    return " ".join(rng.choices(_VOCABULARY, cum_weights=_WEIGHTS, k=rng.randint(200, 400)))


def generated(index: int) -> Document:
    """Document ``index`` of ~300 Zipf-distributed English words; every tenth is a one-word edit of an earlier one.

    A pure function of the index, so documents are made inside the pipeline (not shipped in it).
    """
    if index % 10 == 9:
        rng = random.Random(-index)
        source = rng.randrange(index)
        words = _original_text(source - 1 if source % 10 == 9 else source).split(" ")
        words[rng.randrange(len(words))] = rng.choice(_VOCABULARY)
        text = " ".join(words)
    else:
        text = _original_text(index)
    return Document.from_raw(f"gen/{index}.txt", text, published="2023-05-24")


def _measure(count: int, with_dedup: bool) -> float:
    """Wall time of generating ``count`` documents (and deduplicating them), printing the copies found."""
    config = load_config()
    started = time.perf_counter()
    with _pipeline() as p:
        docs = p | beam.Create(range(count)) | beam.Map(generated)
        if with_dedup:
            docs = _deduplicate(docs, config)
        copies = docs | beam.Filter(lambda d: d.duplicate_of is not None) | beam.combiners.Count.Globally()
        _ = copies | beam.Map(lambda n: print("copies", n))
    return time.perf_counter() - started


def scale(sizes: list[int]) -> None:
    previous = None
    for size in sizes:
        results = {}
        for mode in ("baseline", "dedup"):
            out = subprocess.run([sys.executable, __file__, "_one", str(size), mode], check=True,
                                 capture_output=True, text=True).stdout.split()
            results[mode] = {key: float(value) for key, value in zip(out[::2], out[1::2])}
        stage = results["dedup"]["seconds"] - results["baseline"]["seconds"]
        growth = f" (x{stage / previous:.2f} the previous size's)" if previous else ""
        print(f"{size} docs ({size // 10} planted copies, {results['dedup']['copies']:.0f} labelled duplicate_of): "
              f"run with dedup {results['dedup']['seconds']:.1f}s, without {results['baseline']['seconds']:.1f}s, "
              f"dedup stage {stage:.1f}s{growth}; peak RSS with dedup "
              f"{results['dedup']['maxrss_kib'] / 1024:.0f} MiB, without {results['baseline']['maxrss_kib'] / 1024:.0f} MiB")
        previous = stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    synd = commands.add_parser("syndication")
    synd.add_argument("--pipeline", metavar="WORKDIR", type=Path,
                      help="run the whole newsbeam pipeline (files written under WORKDIR) instead of the stage")
    synd.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    scale_parser = commands.add_parser("scale")
    scale_parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    one = commands.add_parser("_one")
    one.add_argument("size", type=int)
    one.add_argument("mode", choices=["baseline", "dedup"])
    args = parser.parse_args()
    if args.command == "syndication" and args.pipeline:
        syndication_pipeline(args.overrides, args.pipeline)
    elif args.command == "syndication":
        syndication(args.overrides)
    elif args.command == "scale":
        scale(args.sizes)
    else:
        seconds = _measure(args.size, args.mode == "dedup")
        print("seconds", seconds, "maxrss_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


if __name__ == "__main__":
    main()
