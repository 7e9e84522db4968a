"""Loads the DAG folder with the real Airflow's DagBag and prints, as JSON,
the import errors and the shape of every DAG: schedule, catchup,
max_active_runs, and per task its upstream tasks, retries, timeout and
command, into the file named by its second argument. Used by
airflow_test.go."""
import json
import os
import sys
import time

# DagBag's include_examples argument is gone in Airflow 3.3: the examples
# follow [core] load_examples.
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"

from airflow.dag_processing.dagbag import DagBag

start = time.monotonic()
bag = DagBag(dag_folder=sys.argv[1])
out = {"load_seconds": time.monotonic() - start, "import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    tasks = {}
    for task in dag.tasks:
        tasks[task.task_id] = {
            "upstream": sorted(task.upstream_task_ids),
            "retries": task.retries,
            "timeout_seconds": task.execution_timeout.total_seconds() if task.execution_timeout else None,
            "operator": type(task).__module__ + "." + type(task).__name__,
            "bash_command": getattr(task, "bash_command", None),
        }
    out["dags"][dag_id] = {
        "schedule": getattr(dag.timetable, "expression", None),
        "timetable": type(dag.timetable).__name__,
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "tasks": tasks,
    }
with open(sys.argv[2], "w") as f:  # stdout carries Airflow's log lines
    json.dump(out, f, sort_keys=True)
