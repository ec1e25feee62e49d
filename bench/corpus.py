"""Build a realistic benchmark corpus deterministically from the seeds and the public AEB pages.

Documents are real whole-page scrapes (AEB full-page text, with their navigation, share and footer
lines) and the seed articles, varied the ways scraped news really varies: extra boilerplate and
photo captions, words glued where a link was lost, and syndicated copies of one body under another
outlet's header and footer. The corpus is written as JSONL shards (one document per line) and is
never checked into the repository.

Its documents are drawn from 186 base pages, each re-dated and re-furnished, and a fifth of them are
syndicated copies of recent ones, so once cleaned most texts recur: of the 1k corpus's 887 texts that
newsbeam tags, 369 are distinct; of the 10k corpus's 9,916 records' texts, about a quarter. A feed with
fewer copies gains less from reusing a text's results (the bench's every-text runs).

    python bench/corpus.py --size 1000 --out bench/corpus/1k
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
AEB = ROOT.parent / "shared" / "data" / "aeb" / "fullpage-text.json"
SEEDS = ROOT / "seeds"
SHARD = 1000

BOILERPLATE = ["Share this:", "Leave a Comment", "Comments", "Advertisement", "Read more", "Subscribe to our newsletter",
               "Follow us on Twitter", "Sign up for our daily briefing", "© 2023 All rights reserved.",
               "We use cookies to improve your experience. Accept", "Related Articles", "Print this page"]
CAPTIONS = ["{name} speaks during a news conference in {place}, {month} {day}, 2023. REUTERS/{photographer}",
            "{name} arrives for a meeting in {place} (AP Photo/{photographer})",
            "A view of {place} on {month} {day}. Photo by {photographer}/Getty Images",
            "{name} attends a ceremony in {place}. PHOTO: AFP"]
NAMES = ["Olaf Scholz", "Emmanuel Macron", "Janet Yellen", "Narendra Modi", "Luiz Inacio Lula da Silva", "Fumio Kishida"]
PLACES = ["Berlin", "Paris", "Washington", "New Delhi", "Brasilia", "Tokyo", "Nairobi", "Jakarta"]
PHOTOGRAPHERS = ["Kevin Lamarque", "Evelyn Hockstein", "Annegret Hilse", "Stephanie Lecocq", "Issei Kato"]
MONTHS = ["January", "March", "May", "July", "September", "November"]


def sources() -> list[str]:
    pages = orjson.loads(AEB.read_bytes())["output"]
    texts = [pages[key]["articleBody"] for key in sorted(pages)]
    texts += [path.read_text("utf-8") for path in sorted(SEEDS.glob("*.txt"))]
    return texts


def _glue(text: str, rng: random.Random, rate: float) -> str:
    """Drop the space between some word pairs, as a lost hyperlink does."""
    words = text.split(" ")
    out = [words[0]]
    for word in words[1:]:
        if rng.random() < rate and re.fullmatch(r"[A-Za-z]{3,}", word) and re.search(r"[a-z]{3}$", out[-1]):
            out[-1] += word
        else:
            out.append(word)
    return " ".join(out)


def _caption(rng: random.Random) -> str:
    return rng.choice(CAPTIONS).format(name=rng.choice(NAMES), place=rng.choice(PLACES), month=rng.choice(MONTHS),
                                       day=rng.randint(1, 28), photographer=rng.choice(PHOTOGRAPHERS))


def vary(text: str, rng: random.Random, index: int) -> str:
    """One document: the base page with its own furniture, captions and glued words."""
    lines = text.split("\n")
    for _ in range(rng.randint(0, 3)):
        lines.insert(rng.randint(0, len(lines)), _caption(rng))
    top = rng.sample(BOILERPLATE, rng.randint(0, 3))
    bottom = rng.sample(BOILERPLATE, rng.randint(1, 4))
    body = "\n".join(top + lines + bottom)
    body = _glue(body, rng, rng.choice([0.0, 0.002, 0.01]))
    return f"date 2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}\n\n{body}\n"


def build(size: int, out: Path, seed: int = 20230524) -> dict[str, int]:
    """Write ``size`` documents as JSONL shards into ``out``: each a varied base page, a fifth of them a
    syndicated copy of a recent document."""
    rng = random.Random(seed)
    base = sources()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.jsonl"):
        old.unlink()
    written = 0
    total_bytes = 0
    recent: list[str] = []
    handle = None
    for index in range(size):
        if index % SHARD == 0:
            if handle:
                handle.close()
            handle = (out / f"part-{index // SHARD:05d}.jsonl").open("wb")
        if recent and rng.random() < 0.2:
            # A syndicated copy: another outlet's furniture around the same body.
            text = vary(rng.choice(recent), rng, index)
        else:
            # Each base page also appears re-dated and re-furnished, so documents are not all identical.
            original = base[rng.randrange(len(base))]
            recent = (recent + [original])[-50:]
            text = vary(original, rng, index)
        line = orjson.dumps({"id": f"bench-{index:07d}", "text": text})
        handle.write(line + b"\n")
        written += 1
        total_bytes += len(text.encode("utf-8"))
    if handle:
        handle.close()
    return {"documents": written, "bytes": total_bytes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=20230524)
    args = parser.parse_args()
    print(json.dumps(build(args.size, args.out, args.seed)))


if __name__ == "__main__":
    main()
