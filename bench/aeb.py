"""AEB: how well the cleaning stages find the article body in whole-page plain text.

Feeds each of the Article Extraction Benchmark's 181 whole-page texts (``../shared/data/aeb``)
through the cleaning stages (header, captions, boilerplate with its corpus-repeats aggregate
computed over all pages, layout) and scores the body against the human-extracted one with
token-bag precision, recall and F1 (``\\w+`` tokens, counts matched as multisets), each averaged
over pages, as described in ``../shared/data/README.md``. The raw whole-page dump and the C4 line
rule are scored the same way, so the figures are comparable. A script, not a test: it prints.

    .venv/bin/python bench/aeb.py [--worst 10] [--losses 10] [--set boilerplate.classifier.enabled=false]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Callable

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import load_config  # noqa: E402
from transforms import boilerplate, captions, header, layout  # noqa: E402
from transforms.document import Document  # noqa: E402
from transforms.errors import Reject  # noqa: E402

AEB = ROOT.parent / "shared" / "data" / "aeb"
_TOKEN = re.compile(r"\w+")
# C4's line rule: keep lines of at least five words ending in a terminal punctuation mark.
_C4_END = ('.', '!', '?', '"', '”')


def score(predicted: str, gold: str) -> tuple[float, float, float]:
    """Token-bag precision, recall and F1 of one page."""
    pred, true = Counter(_TOKEN.findall(predicted)), Counter(_TOKEN.findall(gold))
    tp = sum((pred & true).values())
    precision = tp / sum(pred.values()) if pred else 0.0
    recall = tp / sum(true.values()) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def mean_scores(pairs: list[tuple[str, str]]) -> tuple[float, float, float]:
    scores = [score(pred, gold) for pred, gold in pairs]
    return tuple(statistics.mean(s[i] for s in scores) for i in range(3))  # type: ignore[return-value]


def c4_lines(text: str) -> str:
    return "\n".join(line for line in text.split("\n")
                     if len(line.split()) >= 5 and line.rstrip().endswith(_C4_END))


def clean_all(pages: dict[str, str], urls: dict[str, str], config: dict,
              removed: dict[str, list[dict]] | None = None) -> dict[str, str]:
    """The cleaned body of every page, as the pipeline makes it (corpus repeats over all pages).

    ``removed``, when given, receives each page's removal records.
    """
    head, caps, boiler, lay = (module.build(config) for module in (header, captions, boilerplate, layout))
    docs = []
    for key in sorted(pages):
        doc = Document.from_raw(f"aeb/{key}.txt", pages[key], url=urls[key])
        docs.append(caps(head(doc)))
    repeated = boilerplate.count_repeats(docs, config["boilerplate"]["repeats"])
    out = {}
    for key, doc in zip(sorted(pages), docs):
        try:
            out[key] = lay(boiler(doc, repeated)).text
        except Reject:
            out[key] = ""
        if removed is not None:
            removed[key] = doc.removed
    return out


def recall_losses(cleaned: dict[str, str], gold: dict[str, str],
                  removed: dict[str, list[dict]]) -> Counter:
    """Recall lost per removal rule (``kind:rule``), averaged over pages.

    The gold tokens missing from a page's cleaned text are charged to the removals holding them,
    in page order, each token once: which rules take article text out, and how much.
    """
    losses: Counter = Counter()
    for key, items in removed.items():
        true = Counter(_TOKEN.findall(gold[key]))
        missing = true - Counter(_TOKEN.findall(cleaned[key]))
        for item in sorted(items, key=lambda item: item["raw_start"]):
            for token in _TOKEN.findall(item["text"]):
                if missing[token] > 0:
                    missing[token] -= 1
                    losses[f"{item['kind']}:{item['rule']}"] += 1 / sum(true.values())
    return Counter({rule: value / len(removed) for rule, value in losses.items()})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=AEB)
    parser.add_argument("--set", action="append", default=[], help="config override section.key=value")
    parser.add_argument("--worst", type=int, default=0, help="also list the N pages with the lowest F1")
    parser.add_argument("--losses", type=int, default=0,
                        help="also list the N removal rules that lose the most recall")
    args = parser.parse_args(argv)
    pages = {k: v["articleBody"] for k, v in orjson.loads((args.data / "fullpage-text.json").read_bytes())["output"].items()}
    truth = orjson.loads((args.data / "ground-truth.json").read_bytes())
    gold = {k: truth[k]["articleBody"] for k in pages}
    urls = {k: truth[k]["url"] for k in pages}
    removed: dict[str, list[dict]] = {}
    cleaned = clean_all(pages, urls, load_config(overrides=args.set), removed)
    systems: dict[str, Callable[[str], str]] = {
        "raw dump": lambda key: pages[key],
        "C4 line rule": lambda key: c4_lines(pages[key]),
        "newsbeam cleaning": lambda key: cleaned[key],
    }
    print(f"AEB, {len(pages)} pages, token-bag scores averaged per page")
    print(f"{'system':<20} {'precision':>9} {'recall':>7} {'F1':>6}")
    for name, system in systems.items():
        p, r, f = mean_scores([(system(key), gold[key]) for key in sorted(pages)])
        print(f"{name:<20} {p:>9.3f} {r:>7.3f} {f:>6.3f}")
    if args.worst:
        ranked = sorted(sorted(pages), key=lambda key: score(cleaned[key], gold[key])[2])
        for key in ranked[: args.worst]:
            p, r, f = score(cleaned[key], gold[key])
            print(f"  {key[:12]} P {p:.3f} R {r:.3f} F1 {f:.3f} {urls[key][:80]}")
    if args.losses:
        print("recall lost per removal rule (averaged over pages)")
        for rule, loss in recall_losses(cleaned, gold, removed).most_common(args.losses):
            print(f"  {rule:<40} {loss:.4f}")


if __name__ == "__main__":
    main()
