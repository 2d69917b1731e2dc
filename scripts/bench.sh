#!/usr/bin/env bash
# make bench: every benchmark with allocations against freshly started local
# emulators (benchmarks that need one would otherwise be skipped), then
# bench/: rtds side by side with other Kinesis libraries.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export RTDS_EMULATORS_DIR="${RTDS_EMULATORS_DIR:-$root/.emulators}"
trap 'scripts/emulators.sh stop' EXIT
scripts/emulators.sh start
# shellcheck disable=SC1091
. "$RTDS_EMULATORS_DIR/env"
export RTDS_INTEGRATION=required
unset AWS_CA_BUNDLE AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KINESIS AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_S3
go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-1s}" ./...
cd bench && go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-1s}" ./...
cd "$root/otel" && go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-1s}" ./...
