"""Scheduler examples: the Airflow DAG, the cron line and the systemd units load and run valid commands."""

from __future__ import annotations

import ast
import datetime
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from croniter import croniter

from pipeline import cli, manifest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
INSTALL_ROOT = "/opt/newsbeam"


def _newsbeam_argv(argv: list[str]) -> list[str]:
    """Check that ``argv`` (newsbeam's arguments after the program) is a valid scheduled run; return it."""
    args, beam_args = cli._parser().parse_known_args(argv)
    assert args.command in {"run", "watch"}
    cli._pipeline_options(beam_args)  # unknown options raise UsageError
    if args.command == "run":
        pattern, output = manifest.partition_paths(args.input, args.output, args.date)
        assert "{" not in pattern and "{" not in output
    return argv


def _operator_kwargs(dag_file: Path) -> dict:
    """The literal keyword arguments of the DAG's BeamRunPythonPipelineOperator call."""
    tree = ast.parse(dag_file.read_text(encoding="utf-8"))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and getattr(node.func, "id", None) == "BeamRunPythonPipelineOperator"]
    assert len(calls) == 1
    return {kw.arg: kw.value for kw in calls[0].keywords}


def _beam_options_to_args(options: dict) -> list[str]:
    """The Beam provider's documented rule: None/True -> --key, False dropped, else --key=value."""
    args = []
    for key, value in options.items():
        if value is None or value is True:
            args.append(f"--{key}")
        elif value is not False:
            args.append(f"--{key}={value}")
    return args


def test_schedule_airflow_dag_builds_a_valid_newsbeam_command():
    kwargs = _operator_kwargs(EXAMPLES / "airflow_dag.py")
    options = ast.literal_eval(kwargs["pipeline_options"])
    assert ast.literal_eval(kwargs["py_options"]) == ["-m", "pipeline.cli"]
    subcommand = ast.literal_eval(kwargs["py_file"])
    runner = ast.literal_eval(kwargs["runner"])
    # Airflow renders {{ ds }} to the logical date before the operator runs.
    rendered = {key: (value.replace("{{ ds }}", "2026-11-22") if isinstance(value, str) else value)
                for key, value in {**options, "runner": runner}.items()}
    argv = _newsbeam_argv([subcommand, *_beam_options_to_args(rendered)])
    args = cli._parser().parse_known_args(argv)[0]
    assert args.incremental and args.date == "2026-11-22"
    assert manifest.partition_paths(args.input, args.output, args.date) == (
        "/data/landing/2026-11-22/*", "/data/newsbeam/date=2026-11-22")


def _cron_entries(path: Path) -> list[tuple[str, str]]:
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            fields = line.split(None, 5)
            entries.append((" ".join(fields[:5]), fields[5]))
    return entries


def _command_argv(command: str, date: str) -> list[str]:
    """newsbeam's argv inside a shell command line, with the shell's date substitution evaluated."""
    command = command.replace('"$(date -u -d yesterday +\\%F)"', date).replace('"$(date -u -d yesterday +%%F)"', date)
    words = shlex.split(command)
    start = next(i for i, word in enumerate(words) if word.endswith("bin/newsbeam"))
    end = words.index("2>&1") if "2>&1" in words else len(words)
    return words[start + 1:end]


def test_schedule_cron_line_is_valid_and_runs_yesterdays_partition():
    entries = _cron_entries(EXAMPLES / "newsbeam-daily.cron")
    assert len(entries) == 1
    schedule, command = entries[0]
    assert croniter.is_valid(schedule)
    first = croniter(schedule, datetime.datetime(2026, 11, 22, 12, 0)).get_next(datetime.datetime)
    assert first == datetime.datetime(2026, 11, 23, 2, 30)
    argv = _newsbeam_argv(_command_argv(command, "2026-11-22"))
    assert "--incremental" in argv and "--date" in argv


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_schedule_systemd_units_verify(tmp_path):
    # systemd-analyze checks that ExecStart's program exists: point the units at this checkout.
    for name in ("newsbeam-daily.service", "newsbeam-daily.timer", "newsbeam-watch.service"):
        text = (EXAMPLES / name).read_text(encoding="utf-8").replace(INSTALL_ROOT, str(ROOT))
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *sorted(map(str, tmp_path.iterdir()))],
                            capture_output=True, text=True, timeout=60)
    # The one message allowed: the units' User=newsbeam, an account this machine need not have.
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if "newsbeam" in line and "User" not in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


@pytest.mark.parametrize("unit", ["newsbeam-daily.service", "newsbeam-watch.service"])
def test_schedule_systemd_units_run_valid_newsbeam_commands(unit):
    text = (EXAMPLES / unit).read_text(encoding="utf-8")
    exec_start = next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ExecStart="))
    if exec_start.startswith("/bin/sh -c "):
        exec_start = shlex.split(exec_start)[2].removeprefix("exec ")
    _newsbeam_argv(_command_argv(exec_start, "2026-11-22"))
    assert "KillMode=mixed" in text  # SIGTERM to newsbeam only: the current batch may finish


def test_schedule_date_placeholder_without_date_is_a_usage_error(tmp_path, capsys):
    code = cli.main(["run", "--input", str(tmp_path / "{date}" / "*.txt"), "--output", str(tmp_path / "out")])
    assert code == cli.EXIT_USAGE
    assert "no --date" in capsys.readouterr().err
