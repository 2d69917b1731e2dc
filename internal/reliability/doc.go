// Package reliability holds rtds's fault-injection and crash suite: tests
// that turn "nothing is lost" into numbers. It has no API; its tests run in
// make test, and docs/RELIABILITY.md lists each scenario with the numbers
// of the last run.
//
// # Scenarios
//
// Producer under faults (throttled calls, failed entries, connections
// dropped before and after forwarding; with and without KPL aggregation),
// Close while every call is throttled, bounded memory while the endpoint is
// unreachable, a consumer process killed with SIGKILL five times, a
// StartLatest consumer or worker killed before its first record, resharding
// while producing and consuming, a consumer under read faults, and poison
// records.
//
// # Harness
//
// Every scenario sends events with unique ids through an SDK client whose
// endpoint is an internal/faultproxy Proxy in front of a local emulator,
// then reads the whole stream back straight from the emulator (bypassing
// the proxy): every shard, closed parents and children alike, with KPL
// aggregated records expanded by an independent decoder. Comparing the ids
// read back with the ids sent and the ids the producer reported failed
// gives each scenario's lost, duplicated and failed counts, which the
// tests log in one line:
//
//	reliability: scenario=... sent=N read=N unique=N lost=0 duplicated=N failed=N
//
// # Running
//
//	make test                                      # everything
//	go test -race -run . -v ./internal/reliability # this suite, with results
package reliability
