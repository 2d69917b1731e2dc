#!/usr/bin/env bash
# make demo: the main job end to end on local emulators.
#
#  1. start kinesalite and dynalite (scripts/emulators.sh) in a temporary
#     directory, so the emulators of a running dev session are not touched;
#  2. create a stream;
#  3. generate synthetic RTDS events and send them, KPL-aggregated:
#     rtds gen | rtds put --aggregate;
#  4. run examples/uninstall-email until the stream is idle: it logs the
#     email it would send for every UNINSTALL from a device with a named
#     user, counts the rest by type, and prints a summary;
#  5. rtds export the stream into Airship's S3 CSV layout in a local
#     directory (DEMO_EXPORT_DIR, default dist/demo-export) and print where;
#  6. the same path from Airship's side: rtds serve-connect plays the Data
#     Streaming API, rtds bridge forwards it into a second stream (storing
#     its offset in a file), and uninstall-email reads that stream;
#  7. stop the emulators (also on failure or Ctrl-C).
#
# DEMO_EVENTS (default 2000) sets the number of events, DEMO_SHARDS
# (default 4) the stream's shard count.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
events=${DEMO_EVENTS:-2000}
shards=${DEMO_SHARDS:-4}

work=$(mktemp -d "${TMPDIR:-/tmp}/rtds-demo.XXXXXX")
export RTDS_EMULATORS_DIR="$work/emulators"
cleanup() {
  for pid in $(jobs -p); do kill "$pid" 2>/dev/null || true; done
  scripts/emulators.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n==> %s\n' "$*" >&2; }

step "building rtds and examples/uninstall-email"
go build -o "$work/bin/rtds" ./cmd/rtds
go build -o "$work/bin/uninstall-email" ./examples/uninstall-email
export PATH="$work/bin:$PATH"
rtds --version
if ! rtds help 2>/dev/null | grep -qE '^  gen '; then
  echo "demo: this build of rtds has no 'gen' command yet" >&2
  exit 1
fi

step "starting the emulators in $RTDS_EMULATORS_DIR"
scripts/emulators.sh start
# shellcheck disable=SC1091
. "$RTDS_EMULATORS_DIR/env"

# The standard AWS configuration, pointed at the emulators.
unset AWS_PROFILE AWS_CA_BUNDLE AWS_ENDPOINT_URL
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
export AWS_ENDPOINT_URL_KINESIS="$RTDS_KINESALITE_ENDPOINT"
export AWS_ENDPOINT_URL_DYNAMODB="$RTDS_DYNALITE_ENDPOINT"
stream=rtds-demo

step "creating stream $stream ($shards shards)"
uninstall-email -stream "$stream" -create-stream -shards "$shards"

step "rtds gen --count $events --seed 1 | rtds put --stream $stream --aggregate"
rtds gen --count "$events" --seed 1 | rtds put --stream "$stream" --aggregate

step "running examples/uninstall-email until the stream is idle for 2s"
uninstall-email -stream "$stream" -checkpoint-table rtds-demo-checkpoints -idle-exit 2s

step "running it again: it resumes from its DynamoDB checkpoints, so it sends nothing twice"
uninstall-email -stream "$stream" -checkpoint-table rtds-demo-checkpoints -idle-exit 1s

export_dir="${DEMO_EXPORT_DIR:-$root/dist/demo-export}"
rm -rf "$export_dir"
step "rtds export --stream $stream --to file://$export_dir --format csv: Airship's S3 layout in a local directory"
rtds export --stream "$stream" --to "file://$export_dir" --app-key demo-app --integration-id demo-integration \
  --format csv --idle-exit 2s
echo "demo: the export is in $export_dir/demo-app/demo-integration/S3_CSV:" >&2
(cd "$export_dir" && find demo-app -name '*.csv' -not -path '*/.rtds/*' | sort | head -8) >&2

connect_stream="$stream-connect"
step "the Data Streaming API path: rtds serve-connect | rtds bridge --stream $connect_stream | uninstall-email"
uninstall-email -stream "$connect_stream" -create-stream -shards "$shards"
rtds gen --count "$events" --seed 2 >"$work/events.ndjson"
printf 'demo-token\n' >"$work/token"
rtds serve-connect --events "$work/events.ndjson" --app-key DEMOAPPKEY --token-file "$work/token" 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 100); do grep -q ' at http' "$work/serve.log" && break; sleep 0.1; done
url=$(sed -n 's/.* at \(http[^ ]*\)$/\1/p' "$work/serve.log")
last=$(tail -n 1 "$work/events.ndjson" | grep -o '"offset":"[^"]*"' | head -n 1 | cut -d'"' -f4)
rtds bridge --app-key DEMOAPPKEY --token-file "$work/token" --stream "$connect_stream" --connect-url "$url" \
  --checkpoint "file://$work/bridge-offset.json" &
bridge_pid=$!
for _ in $(seq 600); do grep -q "\"offset\":\"$last\"" "$work/bridge-offset.json" 2>/dev/null && break; sleep 0.1; done
kill -INT "$bridge_pid"
wait "$bridge_pid" || [ $? -eq 130 ]
kill -INT "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
uninstall-email -stream "$connect_stream" -checkpoint-table rtds-demo-checkpoints -idle-exit 2s

step "done; stopping the emulators"
