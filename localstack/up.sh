#!/usr/bin/env bash
# Starts the local stand-ins for the services adlake's tests talk to, and
# prints `export` lines for them on stdout (use: eval "$(localstack/up.sh)").
# Idempotent: a service that is already up is left alone. Installs what is
# missing from the package registries (nothing is vendored into the repo).
#
#   S3         versitygw (posix backend over a folder)  ADLAKE_TEST_S3_ENDPOINT
#   pyiceberg  a Python venv (another Iceberg reader)   ADLAKE_TEST_PYTHON
#   Postgres   a private PostgreSQL cluster (catalog)   ADLAKE_TEST_POSTGRES
#   Trino      Trino 476 over our catalog (trino.sh)    ADLAKE_TEST_TRINO
#   Airflow    a Python venv (airflow.sh)               ADLAKE_TEST_AIRFLOW_PYTHON
#   SNS, SQS   moto server (in memory)                  ADLAKE_TEST_SNS_ENDPOINT
#   SMTP       mailpit (SMTP and its HTTP API)          ADLAKE_TEST_SMTP_ADDR,
#                                                       ADLAKE_TEST_MAILPIT_URL
#
# Ports are fixed defaults, overridable: ADLAKE_STACK_S3_PORT (7070),
# ADLAKE_STACK_PG_PORT (5433), ADLAKE_STACK_MOTO_PORT (5055),
# ADLAKE_STACK_SMTP_PORT (1025), ADLAKE_STACK_MAILPIT_PORT (8025).
#
# State (data, logs, pids) lives in $ADLAKE_STACK_DIR (default
# /tmp/adlake-stack); localstack/down.sh stops everything.
set -euo pipefail

STACK_DIR=${ADLAKE_STACK_DIR:-/tmp/adlake-stack}
S3_PORT=${ADLAKE_STACK_S3_PORT:-7070}
S3_BUCKET=adlake-test
VERSITYGW_VERSION=v1.8.0
PYICEBERG_VERSION=0.12.0
MOTO_VERSION=5.2.5
MAILPIT_VERSION=v1.33.1
# Installs are cached outside the repo and reused across runs.
CACHE_DIR=${ADLAKE_CACHE_DIR:-$HOME/.cache/adlake}
GOBIN=${GOBIN:-$(go env GOPATH)/bin}
mkdir -p "$STACK_DIR"
chmod 755 "$STACK_DIR" # the postgres user must reach its data folder inside
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

PG_PORT=${ADLAKE_STACK_PG_PORT:-5433}

start_postgres() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; then
    log "PostgreSQL already listening on $PG_PORT"; return
  fi
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
    log "installing PostgreSQL from Debian (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  local data="$STACK_DIR/pg/data"
  mkdir -p "$STACK_DIR/pg"
  chown postgres "$STACK_DIR/pg"
  if [ ! -f "$data/PG_VERSION" ]; then
    su postgres -s /bin/sh -c "$bin/initdb -D '$data' -U postgres --auth=trust -E UTF8" >"$STACK_DIR/pg/initdb.log" 2>&1 \
      || { log "initdb failed; see $STACK_DIR/pg/initdb.log"; exit 1; }
  fi
  su postgres -s /bin/sh -c "$bin/pg_ctl -D '$data' -l '$STACK_DIR/pg/log' -o '-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1' -w start" >&2 \
    || { log "PostgreSQL did not start; see $STACK_DIR/pg/log"; exit 1; }
  head -1 "$data/postmaster.pid" >"$STACK_DIR/pg/pid"
  log "PostgreSQL on 127.0.0.1:$PG_PORT"
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

MOTO_PORT=${ADLAKE_STACK_MOTO_PORT:-5055}

# moto: SNS and SQS in memory (SNS delivers to SQS subscriptions), for the
# alert tests. State is lost when it stops, which the tests expect.
start_moto() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$MOTO_PORT") 2>/dev/null; then
    log "moto already listening on $MOTO_PORT"; return
  fi
  local venv="$CACHE_DIR/venv-moto-$MOTO_VERSION"
  if [ ! -x "$venv/bin/moto_server" ] || ! "$venv/bin/python" -c "import moto.server" 2>/dev/null; then
    log "installing moto[server] $MOTO_VERSION into $venv (first time: ~1 min)"
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q "moto[server]==$MOTO_VERSION" >&2
  fi
  mkdir -p "$STACK_DIR/moto"
  nohup "$venv/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$STACK_DIR/moto/log" 2>&1 &
  echo $! >"$STACK_DIR/moto/pid"
  wait_port 127.0.0.1 "$MOTO_PORT" 30 || { log "moto did not start; see $STACK_DIR/moto/log"; exit 1; }
  log "SNS/SQS (moto $MOTO_VERSION) on 127.0.0.1:$MOTO_PORT"
}

SMTP_PORT=${ADLAKE_STACK_SMTP_PORT:-1025}
MAILPIT_PORT=${ADLAKE_STACK_MAILPIT_PORT:-8025}

# mailpit: an SMTP server keeping what it receives, readable through its
# HTTP API (GET /api/v1/messages). Accepts any login, offers no TLS.
start_mailpit() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null; then
    log "SMTP already listening on $SMTP_PORT"; return
  fi
  if [ ! -x "$GOBIN/mailpit" ]; then
    log "installing mailpit $MAILPIT_VERSION (first time: ~3 min)"
    go install "github.com/axllent/mailpit@$MAILPIT_VERSION" >&2
  fi
  mkdir -p "$STACK_DIR/mailpit"
  nohup "$GOBIN/mailpit" --smtp "127.0.0.1:$SMTP_PORT" --listen "127.0.0.1:$MAILPIT_PORT" \
    --database "$STACK_DIR/mailpit/mailpit.db" --smtp-auth-accept-any --smtp-auth-allow-insecure \
    >"$STACK_DIR/mailpit/log" 2>&1 &
  echo $! >"$STACK_DIR/mailpit/pid"
  wait_port 127.0.0.1 "$SMTP_PORT" 30 && wait_port 127.0.0.1 "$MAILPIT_PORT" 30 \
    || { log "mailpit did not start; see $STACK_DIR/mailpit/log"; exit 1; }
  log "SMTP (mailpit $MAILPIT_VERSION) on 127.0.0.1:$SMTP_PORT, API on http://127.0.0.1:$MAILPIT_PORT"
}

start_s3
start_postgres
setup_python
start_moto
start_mailpit
EXPORTS=$(cat <<EOT
export ADLAKE_TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT
export ADLAKE_TEST_S3_BUCKET=$S3_BUCKET
export AWS_ACCESS_KEY_ID=adlaketest
export AWS_SECRET_ACCESS_KEY=adlaketestsecret
export AWS_REGION=us-east-1
export ADLAKE_TEST_PYTHON=$PYTHON_BIN
export ADLAKE_TEST_POSTGRES=postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable
export ADLAKE_TEST_SNS_ENDPOINT=http://127.0.0.1:$MOTO_PORT
export ADLAKE_TEST_SMTP_ADDR=127.0.0.1:$SMTP_PORT
export ADLAKE_TEST_MAILPIT_URL=http://127.0.0.1:$MAILPIT_PORT
EOT
)
# Trino reads our catalog on PostgreSQL and our warehouse on S3: it needs
# the exports above. Airflow is only a venv (no service).
eval "$EXPORTS"
here=$(dirname "$0")
EXPORTS+=$'\n'$(ADLAKE_STACK_DIR=$STACK_DIR ADLAKE_CACHE_DIR=$CACHE_DIR "$here/trino.sh")
EXPORTS+=$'\n'$(ADLAKE_CACHE_DIR=$CACHE_DIR "$here/airflow.sh")
echo "$EXPORTS"
