#!/usr/bin/env bash
# Starts the local stand-ins for the services adlake's tests talk to, and
# prints `export` lines for them on stdout (use: eval "$(localstack/up.sh)").
# Idempotent: a service that is already up is left alone. Installs what is
# missing from the package registries (nothing is vendored into the repo).
#
#   S3         versitygw (posix backend over a folder)  ADLAKE_TEST_S3_ENDPOINT
#   pyiceberg  a Python venv (another Iceberg reader)   ADLAKE_TEST_PYTHON
#
# State (data, logs, pids) lives in $ADLAKE_STACK_DIR (default
# /tmp/adlake-stack); localstack/down.sh stops everything.
set -euo pipefail

STACK_DIR=${ADLAKE_STACK_DIR:-/tmp/adlake-stack}
S3_PORT=${ADLAKE_STACK_S3_PORT:-7070}
S3_BUCKET=adlake-test
VERSITYGW_VERSION=v1.8.0
PYICEBERG_VERSION=0.12.0
# Installs are cached outside the repo and reused across runs.
CACHE_DIR=${ADLAKE_CACHE_DIR:-$HOME/.cache/adlake}
GOBIN=${GOBIN:-$(go env GOPATH)/bin}
mkdir -p "$STACK_DIR"
log() { echo "localstack: $*" >&2; }

wait_port() { # host port seconds
  for _ in $(seq 1 $(( $3 * 10 ))); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

start_s3() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null; then
    log "S3 already listening on $S3_PORT"; return
  fi
  if [ ! -x "$GOBIN/versitygw" ]; then
    log "installing versitygw $VERSITYGW_VERSION (first time: ~5 min)"
    go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2
  fi
  mkdir -p "$STACK_DIR/s3/data/$S3_BUCKET" "$STACK_DIR/s3/meta"
  ROOT_ACCESS_KEY=adlaketest ROOT_SECRET_KEY=adlaketestsecret \
    nohup "$GOBIN/versitygw" --port "127.0.0.1:$S3_PORT" posix --sidecar "$STACK_DIR/s3/meta" "$STACK_DIR/s3/data" \
    >"$STACK_DIR/s3/log" 2>&1 &
  echo $! >"$STACK_DIR/s3/pid"
  wait_port 127.0.0.1 "$S3_PORT" 30 || { log "versitygw did not start; see $STACK_DIR/s3/log"; exit 1; }
  log "S3 (versitygw) on 127.0.0.1:$S3_PORT, bucket $S3_BUCKET"
}

setup_python() {
  local venv="$CACHE_DIR/venv-pyiceberg-$PYICEBERG_VERSION"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import pyiceberg, pyarrow" 2>/dev/null; then
    log "installing pyiceberg $PYICEBERG_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q "pyiceberg[sql-sqlite,pyarrow]==$PYICEBERG_VERSION" >&2
  fi
  PYTHON_BIN="$venv/bin/python"
}

start_s3
setup_python
cat <<EOT
export ADLAKE_TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT
export ADLAKE_TEST_S3_BUCKET=$S3_BUCKET
export AWS_ACCESS_KEY_ID=adlaketest
export AWS_SECRET_ACCESS_KEY=adlaketestsecret
export AWS_REGION=us-east-1
export ADLAKE_TEST_PYTHON=$PYTHON_BIN
EOT
