"""False edits on clean prose: how often the repair stage changes edited, published news text.

Reads the human-extracted article bodies of the Article Extraction Benchmark
(``../shared/data/aeb/ground-truth.json``, 181 pages; a few are not English and the English-only
repairs skip them) at run time, runs the repair stage (default configuration) over each body as one
document and reports its edits per 10,000 tokens (``\\w+``), by kind, with the edits themselves;
every edit of clean text counts, even where the text was in fact wrong (the list says which).
It also times the stage (build excluded) and prints its throughput in characters per second on one
core (per CPU second of the process, and per wall-clock second). A script, not a test: it prints.

    .venv/bin/python bench/clean_prose.py [--show 50] [--set repair.kinds.punctuation=false]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import load_config  # noqa: E402
from transforms import repair  # noqa: E402
from transforms.document import Document  # noqa: E402

GROUND_TRUTH = ROOT.parent / "shared" / "data" / "aeb" / "ground-truth.json"
_TOKEN = re.compile(r"\w+")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=50, help="print this many edits with their context")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs over the whole set (best is kept)")
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    run = repair.build(load_config(overrides=args.overrides))
    pages = orjson.loads(GROUND_TRUTH.read_bytes())
    bodies = [(page_id, pages[page_id]["articleBody"]) for page_id in sorted(pages)]
    tokens = sum(len(_TOKEN.findall(body)) for _, body in bodies)
    chars = sum(len(body) for _, body in bodies)
    kinds: Counter = Counter()
    word_edits = 0
    examples: list[str] = []
    suspects = 0
    for page_id, body in bodies:
        doc = run(Document.from_raw(page_id, body))
        suspects += doc.mt_suspect
        for item in doc.repairs:
            kinds[item["kind"]] += 1
            # Spacing and punctuation fixes leave the words as they were; these edits change words.
            word_edits += _TOKEN.findall(item["before"]) != _TOKEN.findall(item["after"])
            context = doc.text[max(0, item["start"] - 30):item["start"] + len(item["after"]) + 30]
            examples.append(f"{item['kind']}: {item['before']!r} -> {item['after']!r} in {context!r}")
    edits = sum(kinds.values())
    # CPU time of this process as well as wall time: on a shared machine the wall clock also counts
    # the time other processes hold the core.
    best_wall = best_cpu = float("inf")
    for _ in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        for page_id, body in bodies:
            run(Document.from_raw(page_id, body))
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    print(f"pages: {len(bodies)}  tokens: {tokens}  characters: {chars}")
    print(f"edits: {edits}  per 10,000 tokens: {edits / tokens * 10_000:.2f}  by kind: {dict(sorted(kinds.items()))}")
    print(f"edits that change words (not only spaces or punctuation): {word_edits}  per 10,000 tokens: "
          f"{word_edits / tokens * 10_000:.2f}")
    print(f"documents flagged mt_suspect: {suspects}")
    print(f"throughput (best of {args.repeat}): {chars / best_cpu:,.0f} chars per CPU second, "
          f"{chars / best_wall:,.0f} chars per wall-clock second")
    for example in examples[:args.show]:
        print(f"  {example}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
