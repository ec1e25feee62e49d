"""Tokenization repair: precision and recall of the spaces the repair stage inserts.

``../shared/data/tokenization-repair/`` holds 500 real paragraphs (``corrupt.txt``) and their corrected
form (``correct.txt``), line-aligned, differing only in spaces. Each corrupt line goes through the
repair stage (default configuration, every kind on, as one document); the output is aligned to the
corrupt line on non-space characters (difflib, so any other edit of the stage is tolerated), and a
space the stage put before a character that had none is an insertion, correct when ``correct.txt``
has a space there. Figures are given for every junction and for junctions between two letters (glued
words proper; the others are mostly table cells and formulas). A script, not a test: it prints.

    .venv/bin/python bench/tokenization_repair.py [--show 20] [--set repair.glued.max_parts=2]
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import load_config  # noqa: E402
from transforms import repair  # noqa: E402
from transforms.document import Document  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "tokenization-repair"


def spaced(line: str) -> tuple[str, list[bool]]:
    """The line's non-space characters and, for each, whether white space precedes it."""
    chars: list[str] = []
    before: list[bool] = []
    pending = False
    for char in line:
        if char.isspace():
            pending = True
            continue
        chars.append(char)
        before.append(pending)
        pending = False
    return "".join(chars), before


def inserted_spaces(corrupt: str, output: str) -> set[int]:
    """Indices (into the corrupt line's non-space characters) before which the output added a space."""
    chars, before = spaced(corrupt)
    out_chars, out_before = spaced(output)
    inserted: set[int] = set()
    matcher = difflib.SequenceMatcher(None, chars, out_chars, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            i, j = block.a + k, block.b + k
            if i > 0 and out_before[j] and not before[i]:
                inserted.add(i)
    return inserted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=0, help="print this many wrong insertions and misses")
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    run = repair.build(load_config(overrides=args.overrides))
    corrupt_lines = (DATA / "corrupt.txt").read_text("utf-8").splitlines()
    correct_lines = (DATA / "correct.txt").read_text("utf-8").splitlines()
    tp = fp = glued = word_tp = word_fp = word_glued = 0
    wrong: list[str] = []
    missed: list[str] = []
    for number, (corrupt, correct) in enumerate(zip(corrupt_lines, correct_lines)):
        chars, before = spaced(corrupt)
        gold_chars, gold_before = spaced(correct)
        assert chars == gold_chars, f"line {number + 1}: files differ in more than spaces"
        truth = {i for i in range(1, len(chars)) if gold_before[i] and not before[i]}
        doc = run(Document.from_raw(f"line-{number + 1}", corrupt))
        predicted = inserted_spaces(corrupt, doc.text)
        glued += len(truth)
        tp += len(predicted & truth)
        fp += len(predicted - truth)
        # The same, restricted to junctions with a letter on both sides: glued words proper.
        words = {i for i in range(1, len(chars)) if chars[i - 1].isalpha() and chars[i].isalpha()}
        word_glued += len(truth & words)
        word_tp += len(predicted & truth & words)
        word_fp += len((predicted - truth) & words)
        wrong.extend(f"{chars[max(0, i - 15):i]}|{chars[i:i + 15]}" for i in sorted(predicted - truth))
        missed.extend(f"{chars[max(0, i - 15):i]}|{chars[i:i + 15]}" for i in sorted(truth - predicted))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / glued if glued else 1.0
    print(f"lines: {len(corrupt_lines)}  glued positions: {glued}  spaces inserted: {tp + fp}  correct: {tp}")
    print(f"precision: {precision:.3f}  recall: {recall:.3f}")
    word_precision = word_tp / (word_tp + word_fp) if word_tp + word_fp else 1.0
    word_recall = word_tp / word_glued if word_glued else 1.0
    print(f"letter-letter junctions (glued words proper): {word_glued} glued, {word_tp + word_fp} inserted, "
          f"{word_tp} correct; precision: {word_precision:.3f}  recall: {word_recall:.3f}")
    for label, examples in (("wrong", wrong), ("missed", missed)):
        for example in examples[:args.show]:
            print(f"  {label}: {example}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
