#!/usr/bin/env bash
# make bench-e2e: complete producer and consumer programs against kinesalite
# (freshly started local emulators), rtds side by side with a8m, harlow and
# the plain SDK (bench/cmd/e2e). Prints the table, and writes it into
# docs/BENCHMARKS.md (between its bench-e2e markers) with the chart
# docs/bench-e2e.svg. E2E_FLAGS adds flags, for example a quick run:
#   make bench-e2e E2E_FLAGS='-events 20000 -rounds 1'
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export RTDS_EMULATORS_DIR="${RTDS_EMULATORS_DIR:-$root/.emulators}"
tmp=$(mktemp -d)
cleanup() {
  "$root/scripts/emulators.sh" stop
  rm -rf "$tmp"
}
trap cleanup EXIT
scripts/emulators.sh start
# shellcheck disable=SC1091
. "$RTDS_EMULATORS_DIR/env"
unset AWS_CA_BUNDLE AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KINESIS AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_S3
go build -o "$tmp/rtds" ./cmd/rtds
(cd bench && go build -o "$tmp/e2e" ./cmd/e2e)
cd bench
# shellcheck disable=SC2086
"$tmp/e2e" -endpoint "$RTDS_KINESALITE_ENDPOINT" -rtds "$tmp/rtds" \
  -svg "$root/docs/bench-e2e.svg" -md "$root/docs/BENCHMARKS.md" ${E2E_FLAGS:-}
