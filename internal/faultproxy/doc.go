// Package faultproxy is a fault-injecting reverse proxy for Kinesis's JSON
// 1.1 protocol, for rtds's reliability tests. Neither local Kinesis
// emulator ever throttles or fails part of a write, so tests put a Proxy
// between the SDK client and the emulator:
//
//	p, err := faultproxy.New(emulatorURL, faultproxy.WithSeed(7),
//		faultproxy.WithConfig(faultproxy.Config{Throttle: 0.1, FailEntries: 0.05}))
//	...
//	defer p.Close()
//	client := testenv.KinesisClient(p.URL())
//
// # Faults
//
// Config selects them (see its fields): throttled calls (HTTP 400
// ProvisionedThroughputExceededException, which the SDK surfaces as
// *sdktypes.ProvisionedThroughputExceededException), PutRecords entries
// failed one by one and spliced back into the emulator's answer, HTTP 500s,
// connections dropped before forwarding (the emulator never sees the call)
// or after it (the emulator acted but the client sees a network error, so
// retries create real duplicates), added latency, expired iterators, an
// unreachable endpoint, and targeting of particular operations. SetConfig
// changes them while the proxy runs.
//
// Decisions come from a generator seeded by WithSeed, so a sequence of
// calls reproduces the same faults. Stats counts every fault injected, so
// tests can assert that their faults really happened.
//
// The SDK retries throttling, 500s and network errors by default; to see
// raw faults, give the client RetryMaxAttempts = 1. Under sustained faults
// the SDK's standard retryer also runs out of retry tokens (500, 5 per
// retry) and then fails calls after one attempt; the fault's typed error is
// still in the returned error's chain.
//
// A call the proxy has started forwarding is completed even if its client
// goes away (a killed process, a cancelled context), as a real server would.
// This also shields kinesalite and dynalite, which crash when a request is
// cut off mid-body: tests that SIGKILL a client process should send its
// traffic through a Proxy (a zero Config forwards everything unchanged; the
// forwarding does not depend on the protocol, so it works for DynamoDB too).
//
// # Limits
//
// The proxy listens on 127.0.0.1 only and forwards only to a loopback
// target. It buffers whole requests and answers, so it does not support
// event streams (SubscribeToShard). It speaks HTTP/1.1.
//
// # Shutdown
//
// Close stops the listener, closes every connection, and waits for
// in-flight requests, leaving no goroutines behind.
package faultproxy
