#!/usr/bin/env bash
# Stops what localstack/up.sh started: S3 (versitygw), PostgreSQL, SNS/SQS
# (moto), SMTP (mailpit) and Trino, each by the pid recorded in $STACK_DIR/*/pid.
# A pid whose process is gone, or is no longer that service (pids get
# reused), is only forgotten, never signalled.
STACK_DIR=${ADLAKE_STACK_DIR:-/tmp/adlake-stack}
for pidfile in "$STACK_DIR"/*/pid; do
  [ -f "$pidfile" ] || continue
  svc=$(basename "$(dirname "$pidfile")")
  pid=$(cat "$pidfile")
  case $svc in
    s3) want=versitygw ;; pg) want=postgres ;; moto) want=moto_server ;; mailpit) want=mailpit ;; trino) want=trino ;; *) want= ;;
  esac
  cmd=$( { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null || true)
  if [ -n "$cmd" ] && { [ -z "$want" ] || [[ $cmd == *"$want"* ]]; }; then
    kill "$pid" 2>/dev/null && echo "localstack: stopped $svc" >&2
  fi
  rm -f "$pidfile"
done
