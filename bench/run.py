"""`make bench`: newsbeam's throughput against the bare spaCy limit, side by side, in one command.

Measures on a deterministic corpus (bench/corpus.py; never checked in):
  1. bare limit: a plain ``nlp.pipe`` loop over the clean texts newsbeam's NER tagged (not those it
     skipped for their language), the same components and alias ruler, one process; and the same loop
     over each distinct text once, the least NER work a run over the corpus can do;
  2. newsbeam end to end on the local runner, one worker and two workers (multi_processing), each also
     tagging every text (``entities.reuse_texts=0`` and the same for ``repair``, ``language`` and
     ``relations``: no copy reuses what was found for its identical text);
  3. newsbeam with NER off (cleaning, repair, language, relations, I/O), in MB/s of raw text per core;
  4. peak memory of each (the process tree's proportional set size, so pages the processes share count
     once), and how wall time grows with the corpus size.
Prints a table and writes bench/results/bench.json. Ratios (newsbeam / bare loop) are the figures to quote,
since absolute times vary between machines: newsbeam as configured (it tags an identical text once per
worker) against the loop over every tagged text and against the loop over the distinct ones, and
newsbeam reusing nothing against the loop over every tagged text. Every run goes ``--repeat`` times (3 by
default; a NER-off run of 100k documents once) and the figures are medians, the peaks maxima: a 2-worker
run's time varied by a fifth between runs of one command. The runs share one word-frequency cache
folder, new for each call (the first run to meet a language builds its table, as a user's first run
does). Timing lives here, never in tests.

    python bench/run.py --sizes 1000 10000 --ner-sizes 1000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import build  # noqa: E402
from bench.ner import model_settings  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.runners import release_freed_memory  # noqa: E402
from transforms.entities import SKIPPED  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CORPUS = ROOT / "bench" / "corpus"
NEWSBEAM = str(Path(sys.executable).parent / "newsbeam")
NER_OFF = ["--set", "entities.enabled=false"]
FREQUENCY_CACHE = RESULTS / "frequency-cache"
LONG_RUN_DOCUMENTS = 50_000


def _tree_memory(process: psutil.Process) -> int:
    """Proportional set size of a process and all its descendants (worker processes included): a page
    the processes share (the interpreter, Beam's and spaCy's libraries) counts once in all, where
    summing resident sizes counted it once per process."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def _run(command: list[str]) -> dict[str, float]:
    """Wall seconds, CPU seconds and peak memory of one command and its worker processes.

    The peak is the largest :func:`_tree_memory`, sampled every 0.1 s. ``ru_maxrss`` is no use here: for
    children it is the largest process ever waited for, not this command's tree. stderr goes to a file,
    not a pipe, which a chatty run would fill and then wait on."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_memory(process))
            time.sleep(0.1)
        wall = time.perf_counter() - started
        if process.returncode != 0:
            errors.seek(0)
            stderr = errors.read().decode("utf-8", "replace")
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": round(wall, 2),
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
            "peak_mib": round(peak / 2**20, 1)}


def _newsbeam(corpus: Path, out: Path, workers: int, extra: list[str]) -> dict[str, float]:
    mode = ["--direct_num_workers=1", "--direct_running_mode=in_memory"] if workers == 1 else \
        [f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"]
    return _run([NEWSBEAM, "run", "--input", str(corpus / "*.jsonl"), "--output", str(out), "--quiet", *mode,
                 "--set", f"relations.frequency_cache={FREQUENCY_CACHE}", *extra])


def _tagged_texts(out: Path) -> list[str]:
    """The clean texts of the records the NER stage tagged: a record skipped for its language (``ner``
    "skipped:language=pt") costs newsbeam no NER, so a loop over it would lift the limit's time."""
    records = (orjson.loads(line) for path in sorted(out.glob("records-*.jsonl"))
               for line in path.read_bytes().splitlines() if line)
    return [record["text"] for record in records if record["ner"] and not record["ner"].startswith(SKIPPED)]


def _bare_loop(texts: list[str], out: Path, config: dict) -> dict[str, float]:
    """The bare limit, run in a child process so its memory is measured the same way."""
    name, components, max_chars, patterns = model_settings(config)
    budget = config["entities"]["batch_chars"]
    dump = out.with_suffix(".texts.json")
    dump.write_bytes(orjson.dumps({"texts": texts, "patterns": patterns}))
    # The same components as the pipeline's NER stage, loaded the same way, in the same batches, but a
    # plain loop.
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "import orjson\n"
        "from bench.batches import char_batches\n"
        "from transforms.entities import load_pipeline\n"
        f"given = orjson.loads(open({str(dump)!r}, 'rb').read())\n"
        f"nlp = load_pipeline({name!r}, {components!r}, {max_chars}, given['patterns'])\n"
        f"count = sum(len(doc.ents) for batch in char_batches(given['texts'], {budget})\n"
        "            for doc in nlp.pipe(batch, batch_size=len(batch)))\n")
    return _run([sys.executable, "-c", code])


RUNS = ("bare_nlp_pipe", "bare_nlp_pipe_distinct_texts", "newsbeam_1w", "newsbeam_2w", "newsbeam_1w_tag_every_text",
        "newsbeam_2w_tag_every_text")
# The row's ratio key -> (newsbeam run, bare loop run).
RATIOS = {"ratio_1w_vs_bare": ("newsbeam_1w", "bare_nlp_pipe"),
          "ratio_2w_vs_bare": ("newsbeam_2w", "bare_nlp_pipe"),
          "ratio_1w_vs_bare_distinct_texts": ("newsbeam_1w", "bare_nlp_pipe_distinct_texts"),
          "ratio_2w_vs_bare_distinct_texts": ("newsbeam_2w", "bare_nlp_pipe_distinct_texts"),
          "ratio_1w_tag_every_text_vs_bare": ("newsbeam_1w_tag_every_text", "bare_nlp_pipe"),
          "ratio_2w_tag_every_text_vs_bare": ("newsbeam_2w_tag_every_text", "bare_nlp_pipe")}
# "Every text": nothing found for a text (repairs, language, entities, relation features) is reused,
# nor is a language answer for an identical paragraph: the figure for a feed without copies.
EVERY_TEXT = [argument for stage in ("repair", "language", "entities", "relations")
              for argument in ("--set", f"{stage}.reuse_texts=0")] + ["--set", "language.cache_size=0"]


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median wall and CPU seconds of repeated runs, their largest peak, and every run's wall seconds."""
    return {"wall_s": round(statistics.median(run["wall_s"] for run in runs), 2),
            "cpu_s": round(statistics.median(run["cpu_s"] for run in runs), 2),
            "peak_mib": max(run["peak_mib"] for run in runs),
            "runs_wall_s": [run["wall_s"] for run in runs]}


def bench(sizes: list[int], ner_sizes: list[int], repeat: int = 3) -> dict:
    results: dict = {"sizes": {}, "repeat": repeat}
    config = load_config()  # the default configuration, which the newsbeam runs use too
    # The bare loop's process gets the malloc thresholds newsbeam's processes run with (the environment
    # carries them), so the peaks compare like with like.
    release_freed_memory()
    shutil.rmtree(FREQUENCY_CACHE, ignore_errors=True)
    # One small untimed run first, so the first timed run does not pay for a cold disk cache and
    # bytecode compilation that later runs get for free.
    build(20, CORPUS / "warm-up")
    _newsbeam(CORPUS / "warm-up", RESULTS / "out-warm-up", 1, [])
    # A run's fixed cost (start-up, graph, models, tables), which makes small runs look sublinear: the
    # growth is also given with it taken off both sides.
    results["fixed_ner_off_1w"] = _median([_newsbeam(CORPUS / "warm-up", RESULTS / "out-warm-up", 1, NER_OFF)
                                           for _ in range(repeat)])
    for size in sizes:
        corpus = CORPUS / f"{size}"
        meta = build(size, corpus)
        row: dict = {"documents": meta["documents"], "raw_mb": round(meta["bytes"] / 1e6, 2)}
        # Repeated like the NER runs, but once above LONG_RUN_DOCUMENTS (the default 100k): a run of a
        # quarter of an hour varies little, and two more would make the default call half an hour longer.
        rounds = repeat if size <= LONG_RUN_DOCUMENTS else 1
        off = _median([_newsbeam(corpus, RESULTS / f"out-{size}-ner-off", 1, NER_OFF) for _ in range(rounds)])
        row["ner_off_1w"] = {**off, "mb_per_s_per_core": round(meta["bytes"] / 1e6 / off["wall_s"], 2)}
        if size in ner_sizes:
            # Every run goes ``repeat`` times, in turn (1w, bare, bare distinct, 2w, every text on 1w and 2w,
            # 1w, ...), the bare loops over the tagged texts of the first 1w run; each ratio is the median of
            # the rounds' ratios: paired, so a drift of the host's speed during the call moves both sides alike.
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in RUNS}
            texts: list[str] = []
            for _ in range(repeat):
                runs["newsbeam_1w"].append(_newsbeam(corpus, RESULTS / f"out-{size}-1w", 1, []))
                texts = texts or _tagged_texts(RESULTS / f"out-{size}-1w")
                runs["bare_nlp_pipe"].append(_bare_loop(texts, RESULTS / f"bare-{size}", config))
                runs["bare_nlp_pipe_distinct_texts"].append(
                    _bare_loop(list(dict.fromkeys(texts)), RESULTS / f"bare-distinct-{size}", config))
                runs["newsbeam_2w"].append(_newsbeam(corpus, RESULTS / f"out-{size}-2w", 2, []))
                for workers in (1, 2):
                    runs[f"newsbeam_{workers}w_tag_every_text"].append(
                        _newsbeam(corpus, RESULTS / f"out-{size}-{workers}w-every", workers, EVERY_TEXT))
            # The bare loop tags every one of them, copies too; newsbeam tags an identical text once per worker
            # (entities.reuse_texts; repair, language and relations likewise), so its ratios against that
            # loop depend on how many texts are copies, and those against the distinct texts' loop do not.
            row["tagged_texts"], row["distinct_tagged_texts"] = len(texts), len(set(texts))
            for name, figures in runs.items():
                row[name] = _median(figures)
                row[name]["docs_per_s"] = round(size / row[name]["wall_s"], 2)
            for key, (name, bare_name) in RATIOS.items():
                row[key] = round(statistics.median(bare["wall_s"] / run["wall_s"]
                                                   for bare, run in zip(runs[bare_name], runs[name])), 3)
        results["sizes"][str(size)] = row
    ordered = sorted(sizes)
    for small, large in zip(ordered, ordered[1:]):
        a, b = results["sizes"][str(small)], results["sizes"][str(large)]
        fixed, small_s, large_s = (results["fixed_ner_off_1w"]["wall_s"], a["ner_off_1w"]["wall_s"],
                                   b["ner_off_1w"]["wall_s"])
        results.setdefault("growth", {})[f"{small}->{large}"] = {
            "documents_x": round(large / small, 1), "ner_off_wall_x": round(large_s / small_s, 2),
            "ner_off_wall_less_fixed_x": round((large_s - fixed) / (small_s - fixed), 2)}
    return results


def table(results: dict) -> str:
    lines = [f"{'docs':>7} {'raw MB':>7} {'run':<28} {'wall s':>8} {'docs/s':>8} {'peak MiB':>9} {'MB/s/core':>10}"]
    for size, row in results["sizes"].items():
        for name in (*RUNS, "ner_off_1w"):
            if name in row:
                f = row[name]
                lines.append(f"{size:>7} {row['raw_mb']:>7} {name:<28} {f['wall_s']:>8} {f.get('docs_per_s', ''):>8} "
                             f"{f['peak_mib']:>9} {f.get('mb_per_s_per_core', ''):>10}")
        if "tagged_texts" in row:
            lines.append(f"{size:>7} tagged texts = {row['tagged_texts']}, distinct = {row['distinct_tagged_texts']}")
        for key in RATIOS:
            if key in row:
                lines.append(f"{size:>7} {key} = {row[key]}")
    if results.get("repeat", 1) > 1:
        lines.append(f"medians of {results['repeat']} runs each (peaks: maxima), ratios paired by round")
    lines.append("docs/s: the corpus's documents over the wall time, the bare loops' rows too (they tag only"
                 " the tagged or distinct texts)")
    for step, growth in results.get("growth", {}).items():
        lines.append(f"growth {step}: {growth['documents_x']}x documents -> {growth['ner_off_wall_x']}x wall "
                     f"(NER off), {growth['ner_off_wall_less_fixed_x']}x less a 20-document run's "
                     f"{results['fixed_ner_off_1w']['wall_s']} s")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--ner-sizes", type=int, nargs="*", default=[1000],
                        help="sizes also run with NER (the slow part) on one and two workers and the bare loop")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each NER command, in turn; figures are medians, ratios paired by round")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = bench(args.sizes, args.ner_sizes, args.repeat)
    (RESULTS / "bench.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"written {RESULTS / 'bench.json'}")


if __name__ == "__main__":
    main()
