#!/usr/bin/env bash
# Installs Apache Airflow (PyPI) into a venv in the cache folder, for the
# test that loads orchestration/airflow/adlake_dag.py with the real Airflow
# and runs one of its tasks. Prints on stdout:
#
#   export ADLAKE_TEST_AIRFLOW_PYTHON=<venv>/bin/python
#
# Use: eval "$(localstack/airflow.sh)". Idempotent: an installed venv that
# imports airflow and the standard provider is reused. Nothing is started:
# the test sets its own AIRFLOW_HOME and SQLite metadata database.
#
# Versions are pinned by orchestration/airflow/constraints.txt (pip freeze
# of a resolved install; Airflow's own constraint files are on GitHub,
# which this network does not reach). The venv's name carries a hash of
# that file, so changing the pins installs a fresh venv.
#
# Environment: ADLAKE_CACHE_DIR (default ~/.cache/adlake), PYTHON (default
# python3; Airflow 3 needs 3.10-3.13).
set -euo pipefail

AIRFLOW_VERSION=3.3.2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONSTRAINTS="$ROOT/orchestration/airflow/constraints.txt"
CACHE_DIR=${ADLAKE_CACHE_DIR:-$HOME/.cache/adlake}
PYTHON=${PYTHON:-python3}
log() { echo "localstack/airflow: $*" >&2; }

pins=none
[ -f "$CONSTRAINTS" ] && pins=$(sha1sum "$CONSTRAINTS" | cut -c1-8)
venv="$CACHE_DIR/venv-airflow-$AIRFLOW_VERSION-$pins"
probe='import airflow, airflow.providers.standard.operators.bash; from airflow.dag_processing.dagbag import DagBag'
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "$probe" 2>/dev/null; then
  log "installing apache-airflow $AIRFLOW_VERSION into $venv (first time: a few minutes)"
  rm -rf "$venv"
  mkdir -p "$CACHE_DIR"
  "$PYTHON" -m venv "$venv" >&2
  "$venv/bin/pip" install -q --upgrade pip >&2
  args=("apache-airflow==$AIRFLOW_VERSION" apache-airflow-providers-standard)
  [ -f "$CONSTRAINTS" ] && args+=(-c "$CONSTRAINTS")
  start=$(date +%s)
  "$venv/bin/pip" install -q "${args[@]}" >&2
  log "installed in $(( $(date +%s) - start )) s"
  "$venv/bin/python" -c "$probe" >&2
fi
echo "export ADLAKE_TEST_AIRFLOW_PYTHON=$venv/bin/python"
