#!/usr/bin/env bash
# Stops what localstack/up.sh started.
STACK_DIR=${ADLAKE_STACK_DIR:-/tmp/adlake-stack}
for pidfile in "$STACK_DIR"/*/pid; do
  [ -f "$pidfile" ] || continue
  kill "$(cat "$pidfile")" 2>/dev/null && echo "localstack: stopped $(basename "$(dirname "$pidfile")")" >&2
  rm -f "$pidfile"
done
