"""Airflow DAG: run newsbeam once a day over the previous day's landing partition.

Uses the Apache Beam provider's operator, which runs
``py_file`` with ``pipeline_options`` turned into ``--key=value`` arguments. ``{{ ds }}`` is the
run's logical date, so each DAG run processes exactly its own partition, and rerunning a day is
idempotent (``--incremental`` skips files the partition's manifest.json already holds). Any
non-zero exit fails the task; the final log line is newsbeam's one-line status.

For Dataflow, set ``runner="DataflowRunner"`` and add ``dataflow_config`` (see docs/runners.md).

Install ``apache-airflow-providers-apache-beam[google]``: from provider 6 the operator refuses to be
created without the Google provider, even for the DirectRunner (seen with Airflow 3.3.2 and provider
6.3.1, whose DagBag reports "Failed to import apache-airflow-google-provider" for this file otherwise).
"""

from __future__ import annotations

import datetime

from airflow import DAG
from airflow.providers.apache.beam.operators.beam import BeamRunPythonPipelineOperator

NEWSBEAM_HOME = "/opt/newsbeam"

with DAG(
    dag_id="newsbeam_daily",
    description="Clean and tag yesterday's scraped news with newsbeam",
    schedule="30 2 * * *",
    start_date=datetime.datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # one writer per output partition at a time
    default_args={"retries": 2, "retry_delay": datetime.timedelta(minutes=10)},
    tags=["newsbeam"],
) as dag:
    BeamRunPythonPipelineOperator(
        task_id="newsbeam_run",
        runner="DirectRunner",
        # The operator runs `<py_interpreter> <py_options> <py_file> --key=value ...`: with
        # py_options ["-m", "pipeline.cli"], py_file is newsbeam's subcommand, `run`.
        py_interpreter=f"{NEWSBEAM_HOME}/.venv/bin/python",
        py_options=["-m", "pipeline.cli"],
        py_file="run",
        pipeline_options={
            "input": "/data/landing/{date}/*",
            "output": "/data/newsbeam",
            "date": "{{ ds }}",
            "incremental": None,
            "quiet": None,
            "direct_num_workers": 2,
        },
    )
