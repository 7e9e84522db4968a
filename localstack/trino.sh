#!/usr/bin/env bash
# Installs and starts a single-node Trino (coordinator and worker in one
# JVM) whose Iceberg catalog `lake` reads adlake's tables: the JDBC catalog
# in PostgreSQL and the warehouse on S3. Prints on stdout:
#
#   export ADLAKE_TEST_TRINO=http://127.0.0.1:PORT
#
# Use, after localstack/up.sh (whose variables it reads):
#   eval "$(localstack/up.sh)" && eval "$(localstack/trino.sh)"
#   localstack/trino.sh stop            # or localstack/down.sh (pid file)
#
# Reads:
#   ADLAKE_TEST_POSTGRES     postgres://user[:pass]@host:port/db: the catalog
#                            database of `lake` (required)
#   ADLAKE_TEST_S3_ENDPOINT  S3 endpoint (required), path-style
#   ADLAKE_TEST_S3_BUCKET    bucket of `lake`'s default warehouse (default adlake-test)
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (default us-east-1)
#   ADLAKE_STACK_TRINO_PORT  HTTP port (default 8089)
#   ADLAKE_STACK_DIR         state: etc, data, log, pid under trino/ (default /tmp/adlake-stack)
#   ADLAKE_CACHE_DIR         download cache (default ~/.cache/adlake)
#   ADLAKE_TRINO_JAVA_HOME   JDK 24+ (default /usr/lib/jvm/temurin-25-jdk-amd64)
#
# `lake` lists tables once adlake has opened a catalog in that database
# (Trino does not create the JDBC catalog's SQL tables itself).
# Catalog management is dynamic, so tests add their own isolated catalogs
# with CREATE CATALOG (cmd/adlake/trino_test.go); `lake` is the static one.
# Idempotent: a Trino already running with the same configuration is left
# alone; one with another configuration is restarted.
set -euo pipefail

TRINO_VERSION=476
PORT=${ADLAKE_STACK_TRINO_PORT:-8089}
STACK_DIR=${ADLAKE_STACK_DIR:-/tmp/adlake-stack}
CACHE_DIR=${ADLAKE_CACHE_DIR:-$HOME/.cache/adlake}
JAVA_HOME_TRINO=${ADLAKE_TRINO_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
STATE="$STACK_DIR/trino"
MAVEN=https://repo.maven.apache.org/maven2/io/trino
log() { echo "localstack/trino: $*" >&2; }

running_pid() { # the pid of our Trino, if it is alive
  [ -f "$STATE/pid" ] || return 1
  local pid
  pid=$(cat "$STATE/pid")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

stop() {
  local pid
  if pid=$(running_pid); then
    kill "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    log "stopped Trino (pid $pid)"
  fi
  rm -f "$STATE/pid"
}

if [ "${1:-start}" = stop ]; then stop; exit 0; fi

# fetch NAME: download NAME from Maven Central into the cache once, checking
# its .sha1.
fetch() {
  local path=$1 dest="$CACHE_DIR/trino/$(basename "$1")"
  if [ ! -f "$dest" ]; then
    mkdir -p "$CACHE_DIR/trino"
    log "downloading $(basename "$path") from Maven Central"
    local start=$SECONDS
    curl -fsSL --retry 3 -o "$dest.part" "$MAVEN/$path"
    local want got
    want=$(curl -fsSL --retry 3 "$MAVEN/$path.sha1" | cut -c1-40)
    got=$(sha1sum "$dest.part" | cut -c1-40)
    if [ "$want" != "$got" ]; then
      rm -f "$dest.part"
      log "checksum mismatch for $path: sha1 $got, Maven says $want"; exit 1
    fi
    mv "$dest.part" "$dest"
    log "downloaded $(du -h "$dest" | cut -f1) in $(( SECONDS - start )) s"
  fi
  echo "$dest"
}

install() {
  HOME_TRINO="$CACHE_DIR/trino/trino-server-$TRINO_VERSION"
  if [ ! -x "$HOME_TRINO/bin/launcher" ]; then
    local tgz
    tgz=$(fetch "trino-server/$TRINO_VERSION/trino-server-$TRINO_VERSION.tar.gz")
    log "unpacking $(basename "$tgz")"
    rm -rf "$HOME_TRINO.tmp" && mkdir -p "$HOME_TRINO.tmp"
    tar xzf "$tgz" -C "$HOME_TRINO.tmp"
    mv "$HOME_TRINO.tmp/trino-server-$TRINO_VERSION" "$HOME_TRINO" && rmdir "$HOME_TRINO.tmp"
  fi
  # The CLI, for people: java -jar $CACHE_DIR/trino/trino-cli-476-executable.jar --server ...
  fetch "trino-cli/$TRINO_VERSION/trino-cli-$TRINO_VERSION-executable.jar" >/dev/null
  [ -x "$JAVA_HOME_TRINO/bin/java" ] || { log "no JDK at $JAVA_HOME_TRINO (Trino $TRINO_VERSION needs 24+; set ADLAKE_TRINO_JAVA_HOME)"; exit 1; }
}

urldecode() { local s=${1//+/ }; printf '%b' "${s//%/\\x}"; }

# render DIR: writes Trino's etc folder for the current environment.
render() {
  local etc=$1
  : "${ADLAKE_TEST_POSTGRES:?ADLAKE_TEST_POSTGRES must name the catalog database (eval \"\$(localstack/up.sh)\" first)}"
  : "${ADLAKE_TEST_S3_ENDPOINT:?ADLAKE_TEST_S3_ENDPOINT must name the S3 endpoint (eval \"\$(localstack/up.sh)\" first)}"
  local re='^postgres(ql)?://(([^:@/]*)(:([^@/]*))?@)?([^/?]+)(/([^?]*))?(\?(.*))?$'
  [[ $ADLAKE_TEST_POSTGRES =~ $re ]] || { log "cannot parse ADLAKE_TEST_POSTGRES"; exit 1; }
  local user=${BASH_REMATCH[3]} pass=${BASH_REMATCH[5]} hostport=${BASH_REMATCH[6]} db=${BASH_REMATCH[8]:-postgres} query=${BASH_REMATCH[10]}
  local jdbc="jdbc:postgresql://$hostport/$db${query:+?$query}"
  mkdir -p "$etc/catalog"
  cat >"$etc/node.properties" <<EOT
node.environment=adlake_test
node.id=adlake-test-trino
node.data-dir=$STATE/data
EOT
  cat >"$etc/jvm.config" <<'EOT'
-server
-Xmx2G
-XX:+UseG1GC
-XX:G1HeapRegionSize=32M
-XX:+ExplicitGCInvokesConcurrent
-XX:+ExitOnOutOfMemoryError
-XX:-OmitStackTraceInFastThrow
-XX:ReservedCodeCacheSize=256M
-XX:PerMethodRecompilationCutoff=10000
-XX:PerBytecodeRecompilationCutoff=10000
-XX:+EnableDynamicAgentLoading
--enable-native-access=ALL-UNNAMED
-Djdk.attach.allowAttachSelf=true
-Djdk.nio.maxCachedBufferSize=2000000
-Dfile.encoding=UTF-8
EOT
  # Small for a shared 2-core machine: one node, modest memory. Only the
  # Iceberg plugin is loaded (plugin.dir), which keeps startup short.
  cat >"$etc/config.properties" <<EOT
coordinator=true
node-scheduler.include-coordinator=true
http-server.http.port=$PORT
discovery.uri=http://127.0.0.1:$PORT
query.max-memory=1GB
query.max-memory-per-node=1GB
memory.heap-headroom-per-node=512MB
task.concurrency=2
plugin.dir=$STATE/plugin
catalog.management=dynamic
catalog.store=file
EOT
  echo "io.trino=INFO" >"$etc/log.properties"
  # The catalog adlake writes (lake/catalog: catalog name "adlake").
  {
    echo "connector.name=iceberg"
    echo "iceberg.catalog.type=jdbc"
    echo "iceberg.jdbc-catalog.driver-class=org.postgresql.Driver"
    echo "iceberg.jdbc-catalog.connection-url=$jdbc"
    [ -n "$user" ] && echo "iceberg.jdbc-catalog.connection-user=$(urldecode "$user")"
    [ -n "$pass" ] && echo "iceberg.jdbc-catalog.connection-password=$(urldecode "$pass")"
    echo "iceberg.jdbc-catalog.catalog-name=adlake"
    echo "iceberg.jdbc-catalog.default-warehouse-dir=s3://${ADLAKE_TEST_S3_BUCKET:-adlake-test}/warehouse"
    echo "fs.native-s3.enabled=true"
    echo "s3.endpoint=$ADLAKE_TEST_S3_ENDPOINT"
    echo "s3.region=${AWS_REGION:-us-east-1}"
    echo "s3.path-style-access=true"
    [ -n "${AWS_ACCESS_KEY_ID:-}" ] && echo "s3.aws-access-key=$AWS_ACCESS_KEY_ID"
    [ -n "${AWS_SECRET_ACCESS_KEY:-}" ] && echo "s3.aws-secret-key=$AWS_SECRET_ACCESS_KEY"
  } >"$etc/catalog/lake.properties"
}

# ready: Trino answers /v1/info with starting=false.
ready() { curl -fsS "http://127.0.0.1:$PORT/v1/info" 2>/dev/null | grep -q '"starting":false'; }

install
mkdir -p "$STATE"
rm -rf "$STATE/etc.new" && render "$STATE/etc.new"
# Compare the static files only: catalogs tests added with CREATE CATALOG
# live in etc/catalog too, and are no reason to restart.
same=false
if [ -d "$STATE/etc" ] && diff -q "$STATE/etc.new/config.properties" "$STATE/etc/config.properties" >/dev/null 2>&1 &&
  diff -q "$STATE/etc.new/jvm.config" "$STATE/etc/jvm.config" >/dev/null &&
  diff -q "$STATE/etc.new/catalog/lake.properties" "$STATE/etc/catalog/lake.properties" >/dev/null 2>&1; then
  same=true
fi
if pid=$(running_pid) && $same && ready; then
  rm -rf "$STATE/etc.new"
  log "Trino already running on $PORT (pid $pid)"
  echo "export ADLAKE_TEST_TRINO=http://127.0.0.1:$PORT"
  exit 0
fi
stop
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  if ready; then
    # Another stack's Trino (e.g. a developer's while CI runs): the tests
    # create their own catalogs (CREATE CATALOG), so it serves them too.
    rm -rf "$STATE/etc.new"
    log "reusing the Trino already serving on $PORT (another stack's)"
    echo "export ADLAKE_TEST_TRINO=http://127.0.0.1:$PORT"
    exit 0
  fi
  log "port $PORT is taken by another process (set ADLAKE_STACK_TRINO_PORT)"; exit 1
fi
# A fresh etc: dynamic catalogs of earlier runs pointed at databases of
# earlier tests.
rm -rf "$STATE/etc" "$STATE/data" && mv "$STATE/etc.new" "$STATE/etc"
rm -rf "$STATE/plugin" && mkdir -p "$STATE/plugin" "$STATE/data"
# Trino runs in its data folder and finds the catalog store's files
# (etc/catalog/, etc/catalog-store.properties) relative to it.
ln -s "$STATE/etc" "$STATE/data/etc"
ln -s "$HOME_TRINO/plugin/iceberg" "$STATE/plugin/iceberg"

log "starting Trino $TRINO_VERSION on 127.0.0.1:$PORT (log: $STATE/log)"
start=$SECONDS
JAVA_HOME=$JAVA_HOME_TRINO PATH="$JAVA_HOME_TRINO/bin:$PATH" nohup "$HOME_TRINO/bin/launcher" \
  --etc-dir "$STATE/etc" --data-dir "$STATE/data" --jvm-dir "$JAVA_HOME_TRINO" run >"$STATE/log" 2>&1 &
echo $! >"$STATE/pid"
for _ in $(seq 1 1800); do
  ready && break
  if ! kill -0 "$(cat "$STATE/pid")" 2>/dev/null; then
    tail -n 40 "$STATE/log" >&2
    log "Trino exited during startup; see $STATE/log"; rm -f "$STATE/pid"; exit 1
  fi
  sleep 0.1
done
ready || { tail -n 40 "$STATE/log" >&2; log "Trino did not become ready in 180 s; see $STATE/log"; exit 1; }
log "Trino ready in $(( SECONDS - start )) s"
echo "export ADLAKE_TEST_TRINO=http://127.0.0.1:$PORT"
