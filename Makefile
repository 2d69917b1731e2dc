# rtds: see README.md. Every target works on a fresh machine with Go and
# Node/npm: the emulators come from npm through scripts/emulators.sh.

GO ?= go
FUZZTIME ?= 5m
BENCHTIME ?= 1s

.PHONY: test demo fuzz bench bench-e2e generate vet fmt emulators-start emulators-stop

## test: gofmt check, go vet, go test -race ./... against local emulators, short fuzzing
test:
	scripts/test.sh

## demo: the main job end to end on a local Kinesis emulator
demo:
	scripts/demo.sh

## fuzz: every fuzz target for FUZZTIME (default 5m) each
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## bench: every benchmark with allocations against local emulators (compare
## runs with benchstat), then bench/: rtds side by side with other Kinesis
## libraries, and otel/: the OpenTelemetry adapter's cost per record
bench:
	BENCHTIME=$(BENCHTIME) scripts/bench.sh

## bench-e2e: complete producer and consumer programs against kinesalite, rtds
## side by side with a8m, harlow and the plain SDK (not part of test); writes
## docs/BENCHMARKS.md's table and docs/bench-e2e.svg. E2E_FLAGS adds flags,
## for example E2E_FLAGS='-events 20000 -rounds 1'
bench-e2e:
	E2E_FLAGS="$(E2E_FLAGS)" scripts/bench-e2e.sh

## generate: regenerate event types, CSV layouts and handler registrations
generate:
	$(GO) generate ./...

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

emulators-start:
	scripts/emulators.sh start

emulators-stop:
	scripts/emulators.sh stop
