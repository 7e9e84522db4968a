"""Airflow 3 DAGs that run adlake (orchestration/README.md).

adlake_ingest  every 5 minutes: one micro-batch, landing -> bronze -> silver.
adlake_daily   once a day, for the day that just ended ({{ ds }}): a last
               micro-batch, then `adlake quality --date`, then gold
               (`adlake run daily --date`), then compaction of that day's
               silver partitions; plus the orphan sweep.

Every task is one adlake command; its exit code (docs/operations.md) decides
the task's state:

  0    success
  3    success with a warning: done, but some landing files were unreadable
       and quarantined whole (see ops.quarantine, reason unreadable_file)
  4    another run holds the feed lock (or committed the same files): the
       micro-batch is skipped, since the run that holds the lock does the
       work; a daily task fails and is retried after retry_delay
  1, 130, other  failure, retried (re-running is always safe: exactly once)

Configuration, each from an Airflow Variable, else the worker's environment
(an Airflow Variable can itself come from AIRFLOW_VAR_<NAME>):

  adlake_bin      ADLAKE_BIN      the adlake binary (default: adlake on PATH)
  adlake_config   ADLAKE_CONFIG   adlake.yaml (default: none)
  adlake_workdir  ADLAKE_WORKDIR  folder the command runs in (default: the
                                  task's temporary folder); only matters
                                  for relative paths such as the embedded
                                  default ./lakehouse

Every other ADLAKE_* variable of the worker reaches adlake unchanged
(secrets such as ADLAKE_SILVER_PSEUDONYM_KEY belong there, not in a Variable).
"""

from __future__ import annotations

import datetime as dt

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, CronDataIntervalTimetable

# Exit codes of cmd/adlake/exit.go.
EXIT_PARTIAL = 3
EXIT_CONFLICT = 4
# BashOperator's skip code: the wrapper maps EXIT_CONFLICT to it where
# skipping is right.
SKIP = 99

_WRAPPER = """\
set -u
bin=${DAG_ADLAKE_BIN:-${ADLAKE_BIN:-adlake}}
[ -n "${DAG_ADLAKE_CONFIG:-}" ] && export ADLAKE_CONFIG="$DAG_ADLAKE_CONFIG"
workdir=${DAG_ADLAKE_WORKDIR:-${ADLAKE_WORKDIR:-}}
[ -n "$workdir" ] && { cd "$workdir" || exit 1; }
"$bin" %(args)s
rc=$?
if [ $rc -eq %(partial)d ]; then
  echo "WARNING: adlake exited %(partial)d: done, but some landing files were unreadable and quarantined whole (ops.quarantine, reason unreadable_file)" >&2
  exit 0
fi
if [ $rc -eq %(conflict)d ]; then
  echo "adlake exited %(conflict)d: another run holds the feed lock; %(on_conflict)s" >&2
  exit %(conflict_exit)d
fi
exit $rc
"""

# Variables read at run time (templates), never at parse time.
_ENV = {
    "DAG_ADLAKE_BIN": "{{ var.value.get('adlake_bin', '') }}",
    "DAG_ADLAKE_CONFIG": "{{ var.value.get('adlake_config', '') }}",
    "DAG_ADLAKE_WORKDIR": "{{ var.value.get('adlake_workdir', '') }}",
}


def adlake(task_id: str, args: str, *, skip_on_conflict: bool, timeout: dt.timedelta, **kwargs) -> BashOperator:
    """A task running `adlake ARGS` with the exit-code policy above."""
    command = _WRAPPER % {
        "args": args,
        "partial": EXIT_PARTIAL,
        "conflict": EXIT_CONFLICT,
        "on_conflict": "skipped, that run does the work" if skip_on_conflict else "failing, to retry later",
        "conflict_exit": SKIP if skip_on_conflict else EXIT_CONFLICT,
    }
    return BashOperator(
        task_id=task_id,
        bash_command=command,
        env=_ENV,
        append_env=True,
        skip_on_exit_code=SKIP,
        execution_timeout=timeout,
        **kwargs,
    )


with DAG(
    dag_id="adlake_ingest",
    description="adlake micro-batch: new landing files -> bronze -> silver",
    schedule="*/5 * * * *",
    start_date=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-platform", "retries": 1, "retry_delay": dt.timedelta(minutes=1)},
    tags=["adlake"],
) as ingest_dag:
    adlake("ingest", "ingest", skip_on_conflict=True, timeout=dt.timedelta(minutes=20))


# The daily DAG's run for day D starts at D+1 02:00 UTC (a data-interval
# timetable, so {{ ds }} is D, the day that ended, not the day of the run).
with DAG(
    dag_id="adlake_daily",
    description="adlake daily: quality checks and gold for the day that ended, then compaction",
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    start_date=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-platform", "retries": 3, "retry_delay": dt.timedelta(minutes=10)},
    tags=["adlake"],
) as daily_dag:
    # A last micro-batch, so the day's landing files are all in silver
    # before they are checked (retried, not skipped, on a held lock).
    ingest = adlake("ingest", "ingest", skip_on_conflict=False, timeout=dt.timedelta(minutes=30))
    quality = adlake("quality", "quality --date {{ ds }}", skip_on_conflict=False, timeout=dt.timedelta(minutes=30))
    gold = adlake("gold", "run daily --date {{ ds }}", skip_on_conflict=False, timeout=dt.timedelta(hours=1))
    compact = adlake("compact", "compact --from {{ ds }} --to {{ ds }}", skip_on_conflict=False, timeout=dt.timedelta(hours=1))
    sweep = adlake("sweep", "sweep --older-than 24h", skip_on_conflict=False, timeout=dt.timedelta(minutes=30))
    ingest >> quality >> gold >> compact
