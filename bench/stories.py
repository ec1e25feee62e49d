"""Stories on real news: the AEB pages that report one event, scored pair by pair.

The Article Extraction Benchmark's 181 whole pages (``../shared/data/aeb``) were scraped over a few
days of November 2019, and some report the same event from different outlets (a plague case in China,
NASA's lunar landers, a Fort Worth rescue). ``bench/data/aeb_stories.yaml`` lists those events by
hand, and groups of pages on one topic whose pairs are neither right nor wrong (``related``: separate
hearings of one impeachment inquiry, separate launches at one auto show). ``newsbeam run`` goes over
the whole pages, as scraped, and every pair of records is scored: same ``story_id`` against same event,
leaving out the pairs of a related group that are not one event. The pages carry no dates, so the
time window plays no part. The pages carry no headline field either; ``--url-titles`` gives each page
the words of its URL's slug as its JSONL ``title`` ("jupiter moon europa water vapor confirmed"), as a
feed with headlines would. A script, not a test: it prints pairwise precision, recall and F1, then
the pairs merged wrongly and the pairs missed.

    .venv/bin/python bench/stories.py [--url-titles] [--set stories.threshold=0.4]
"""

from __future__ import annotations

import argparse
import itertools
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import yaml

ROOT = Path(__file__).resolve().parent.parent
AEB = ROOT.parent / "shared" / "data" / "aeb"
LABELS = ROOT / "bench" / "data" / "aeb_stories.yaml"


def slug_title(url: str | None) -> str | None:
    """The words of the last segment of ``url``'s path that has three or more, leaving out ids and
    file extensions ("/2019/11/20/emirates-inks-order-for-30-boeing-787-jets.html" -> "emirates inks
    order for boeing jets"); None when no segment has."""
    for segment in reversed(urlsplit(url or "").path.split("/")):
        words = [word for word in re.split(r"[-_]+", re.sub(r"\.[a-z]+$", "", segment))
                 if word.isalpha()]
        if len(words) >= 3:
            return " ".join(words)
    return None


def run_pipeline(overrides: list[str], work: Path, url_titles: bool = False) -> list[dict]:
    """The records of ``newsbeam run`` over every AEB page (its id, whole-page text and URL, and with
    ``url_titles`` its slug as title)."""
    pages = orjson.loads((AEB / "fullpage-text.json").read_bytes())["output"]
    gold = orjson.loads((AEB / "ground-truth.json").read_bytes())
    inputs = work / "input"
    inputs.mkdir(parents=True)
    with (inputs / "pages.jsonl").open("wb") as handle:
        for key in sorted(pages):
            url = gold[key].get("url")
            page = {"id": key, "text": pages[key]["articleBody"], "url": url}
            if url_titles:
                page["title"] = slug_title(url)
            handle.write(orjson.dumps(page))
            handle.write(b"\n")
    command = [str(ROOT / ".venv" / "bin" / "newsbeam"), "run", "--input", str(inputs / "*.jsonl"),
               "--output", str(work / "output"), "--quiet", "--direct_num_workers=1",
               "--direct_running_mode=in_memory"] + [f"--set={item}" for item in overrides]
    subprocess.run(command, check=True)
    return [orjson.loads(line) for path in sorted((work / "output").glob("records-*.jsonl"))
            for line in path.read_bytes().splitlines() if line]


def score(story: dict[str, str], events: dict[str, list[str]], related: dict[str, list[str]]
          ) -> tuple[dict[str, float], list[tuple[str, str]], list[tuple[str, str]]]:
    """Pairwise figures of ``story`` (record id -> story id) against the labelled events, the wrongly
    merged pairs and the missed pairs."""
    event_of = {page: name for name, pages in events.items() for page in pages}
    topics: dict[str, set[str]] = {}
    for name, pages in related.items():
        for page in pages:
            topics.setdefault(page, set()).add(name)
    tp, wrong, missed = 0, [], []
    for a, b in itertools.combinations(sorted(story), 2):
        same_event = a in event_of and event_of.get(a) == event_of.get(b)
        same_story = story[a] == story[b]
        if same_event and same_story:
            tp += 1
        elif same_event:
            missed.append((a, b))
        elif same_story and not topics.get(a, set()) & topics.get(b, set()):
            wrong.append((a, b))
    precision = tp / (tp + len(wrong)) if tp + len(wrong) else 0.0
    recall = tp / (tp + len(missed)) if tp + len(missed) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"pairs": tp + len(missed), "precision": precision, "recall": recall, "f1": f1}, wrong, missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    parser.add_argument("--url-titles", action="store_true", help="each page's URL slug as its title")
    args = parser.parse_args(argv)
    labels = yaml.safe_load(LABELS.read_text("utf-8"))
    with tempfile.TemporaryDirectory() as work:
        records = run_pipeline(args.overrides, Path(work), args.url_titles)
    story = {record["id"]: record["story_id"] for record in records}
    titles = {record["id"]: (record["url"] or record["text"][:60]) for record in records}
    figures, wrong, missed = score(story, labels["events"], labels["related"])
    print(f"stories on AEB: {len(records)} pages, {len(labels['events'])} events, {figures['pairs']} same-event pairs")
    print(f"pairwise precision {figures['precision']:.3f}  recall {figures['recall']:.3f}  F1 {figures['f1']:.3f}")
    for heading, pairs in (("merged, not one event", wrong), ("one event, not merged", missed)):
        print(f"{heading}: {len(pairs)}")
        for a, b in pairs:
            print(f"  {titles[a][:70]}\n    {titles[b][:70]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
