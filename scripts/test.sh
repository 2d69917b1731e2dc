#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it: formatting, vet, then
# every test with the race detector against freshly started local emulators
# (a missing emulator fails the run; nothing is skipped), then short fuzzing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "== gofmt"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './tools/*'))
if [ -n "$bad" ]; then
  echo "gofmt would change:" >&2
  echo "$bad" >&2
  exit 1
fi

echo "== go vet"
go vet ./...

echo "== emulators"
export RTDS_EMULATORS_DIR="${RTDS_EMULATORS_DIR:-$root/.emulators}"
trap 'scripts/emulators.sh stop' EXIT
scripts/emulators.sh start
# shellcheck disable=SC1091
. "$RTDS_EMULATORS_DIR/env"
# Integration tests fail, never skip, when an endpoint is missing.
export RTDS_INTEGRATION=required
# Tests control their own AWS environment.
unset AWS_CA_BUNDLE AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KINESIS AWS_ENDPOINT_URL_DYNAMODB

echo "== go test -race"
# The reliability scenarios run on their own, after the rest: they inject
# faults and check bounds (nothing expires with the default TTL, failover
# times), which a machine starved by other test packages running beside
# them (2 cores, -race) would turn into a measure of the machine.
go test -race -count=1 -timeout 20m $(go list ./... | grep -v '/internal/reliability$')
echo "== go test -tags purego (the portable MD5 path of CPUs without AVX2)"
go test -count=1 -tags purego ./internal/md5x8 ./batch
echo "== go test -race ./internal/reliability"
go test -race -count=1 -timeout 20m ./internal/reliability

# Nested modules (examples with dependencies the library must not carry).
for mod in $(git ls-files '*/go.mod' | grep -v '^tools/'); do
  dir=$(dirname "$mod")
  echo "== $dir: go vet, go test -race"
  (cd "$dir" && go vet ./... && go test -race -count=1 -timeout 10m ./...)
done

echo "== fuzz (${FUZZTIME:-10s} per target)"
FUZZTIME="${FUZZTIME:-10s}" scripts/fuzz.sh
