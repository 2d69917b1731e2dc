#!/usr/bin/env bash
# Installs, starts and stops the local AWS emulators that rtds's tests and
# demo run against. Everything listens on 127.0.0.1 only.
#
#   scripts/emulators.sh install   npm packages into tools/emulators/node_modules,
#                                  gofakes3 (Go) into .bin/gofakes3-VERSION
#   scripts/emulators.sh start     start kinesis-local, kinesalite, dynalite and
#                                  gofakes3; write their endpoints to .emulators/env
#   scripts/emulators.sh stop      stop whatever `start` started
#   scripts/emulators.sh status    print .emulators/env and check each endpoint
#
# .emulators/env is a shell file of `export NAME=value` lines:
#   RTDS_KINESIS_LOCAL_ENDPOINT  kinesis-local (kinesis-mock): conformance
#   RTDS_KINESALITE_ENDPOINT     kinesalite: volume
#   RTDS_DYNALITE_ENDPOINT       dynalite: DynamoDB
#   RTDS_S3_ENDPOINT             gofakes3: S3 (path-style, in memory)
#   RTDS_AGG_NODE_MODULES        node_modules holding aws-kinesis-agg
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/tools/emulators"
state="${RTDS_EMULATORS_DIR:-$root/.emulators}"
node_modules="$tools/node_modules"
# gofakes3 runs as its own process, so the library's go.mod never carries it;
# `go install pkg@version` builds it from its own pinned go.mod and go.sum.
gofakes3_version=v1.2.0
gofakes3_bin="$root/.bin/gofakes3-$gofakes3_version/gofakes3"

log() { printf 'emulators: %s\n' "$*" >&2; }

need() {
  command -v "$1" >/dev/null 2>&1 || { log "$1 is required but not installed"; exit 1; }
}

install() {
  need node
  need npm
  if [ -f "$node_modules/.rtds-installed" ] && [ "$node_modules/.rtds-installed" -nt "$tools/package-lock.json" ]; then
    return 0
  fi
  log "installing npm packages (kinesis-local, kinesalite, dynalite, aws-kinesis-agg)"
  (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$node_modules/.rtds-installed"
}

install_gofakes3() {
  [ -x "$gofakes3_bin" ] && return 0
  need go
  log "installing gofakes3 $gofakes3_version"
  GOBIN="$(dirname "$gofakes3_bin")" GOFLAGS=-buildvcs=false GOWORK=off \
    go install "github.com/johannesboyne/gofakes3/cmd/gofakes3@$gofakes3_version"
}

# free_port prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_http URL SECONDS: poll until URL answers any HTTP status.
wait_http() {
  local url=$1 secs=$2 i
  for ((i = 0; i < secs * 10; i++)); do
    if curl -s -o /dev/null --max-time 1 "$url"; then return 0; fi
    sleep 0.1
  done
  return 1
}

start_one() { # name logfile cmd...
  local name=$1 logf=$2
  shift 2
  (cd "$tools" && exec setsid "$@" >"$logf" 2>&1) &
  echo $! >"$state/$name.pid"
}

start() {
  install
  install_gofakes3
  stop >/dev/null 2>&1 || true
  mkdir -p "$state"
  local kl kn dl s3 pre="$root/scripts/loopback.js"
  kl=$(free_port); kn=$(free_port); dl=$(free_port); s3=$(free_port)
  while [ "$kn" = "$kl" ]; do kn=$(free_port); done
  while [ "$dl" = "$kl" ] || [ "$dl" = "$kn" ]; do dl=$(free_port); done
  while [ "$s3" = "$kl" ] || [ "$s3" = "$kn" ] || [ "$s3" = "$dl" ]; do s3=$(free_port); done
  local tls
  tls=$(free_port)

  start_one kinesis-local "$state/kinesis-local.log" env \
    KINESIS_MOCK_PLAIN_PORT="$kl" KINESIS_MOCK_TLS_PORT="$tls" \
    KINESIS_MOCK_CERT_PATH="$node_modules/kinesis-local/server.json" \
    LOG_LEVEL=WARN SHARD_LIMIT=1000 \
    CREATE_STREAM_DURATION=20ms DELETE_STREAM_DURATION=20ms \
    SPLIT_SHARD_DURATION=20ms MERGE_SHARDS_DURATION=20ms \
    UPDATE_SHARD_COUNT_DURATION=20ms REGISTER_STREAM_CONSUMER_DURATION=20ms \
    node -r "$pre" "$node_modules/kinesis-local/main.js"
  start_one kinesalite "$state/kinesalite.log" \
    node -r "$pre" "$node_modules/kinesalite/cli.js" --port "$kn" --shardLimit 1000 \
    --createStreamMs 20 --deleteStreamMs 20 --updateStreamMs 20
  start_one dynalite "$state/dynalite.log" \
    node -r "$pre" "$node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$dl" \
    --createTableMs 20 --deleteTableMs 20 --updateTableMs 20
  start_one gofakes3 "$state/gofakes3.log" \
    "$gofakes3_bin" -host "127.0.0.1:$s3" -backend memory -quiet

  wait_http "http://127.0.0.1:$kl/healthcheck" 60 || { log "kinesis-local did not start"; cat "$state/kinesis-local.log" >&2; exit 1; }
  wait_http "http://127.0.0.1:$kn/" 30 || { log "kinesalite did not start"; cat "$state/kinesalite.log" >&2; exit 1; }
  wait_http "http://127.0.0.1:$dl/" 30 || { log "dynalite did not start"; cat "$state/dynalite.log" >&2; exit 1; }
  wait_http "http://127.0.0.1:$s3/" 30 || { log "gofakes3 did not start"; cat "$state/gofakes3.log" >&2; exit 1; }

  cat >"$state/env" <<EOF
export RTDS_KINESIS_LOCAL_ENDPOINT=http://127.0.0.1:$kl
export RTDS_KINESALITE_ENDPOINT=http://127.0.0.1:$kn
export RTDS_DYNALITE_ENDPOINT=http://127.0.0.1:$dl
export RTDS_AGG_NODE_MODULES=$node_modules
export RTDS_S3_ENDPOINT=http://127.0.0.1:$s3
EOF
  log "started: kinesis-local :$kl, kinesalite :$kn, dynalite :$dl, gofakes3 :$s3"
}

stop() {
  [ -d "$state" ] || return 0
  local f pid
  for f in "$state"/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    # each emulator leads its own process group (setsid); kinesis-local
    # ignores SIGTERM after traffic, so escalate to SIGKILL.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$f"
  done
  rm -f "$state/env"
}

status() {
  [ -f "$state/env" ] || { log "not running"; exit 1; }
  cat "$state/env"
}

case "${1:-}" in
  install) install; install_gofakes3 ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
