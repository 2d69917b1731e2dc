// Package bench compares rtds with other Kinesis libraries in one
// `go test -bench` run, with the network cut out: see README.md. It is a
// separate module so that the library does not carry the other libraries
// as dependencies; the benchmarks are in _test.go files. Command cmd/e2e
// runs complete programs against kinesalite (docs/BENCHMARKS.md).
package bench
