// Package rtdsotel records the hooks of rtds's kinesis producer and
// consumer as OpenTelemetry metrics. It is a module of its own
// (github.com/rtdskit/rtds/otel), so the library does not carry the
// OpenTelemetry API; it depends on go.opentelemetry.io/otel/metric only,
// and the application picks the SDK and exporter (Prometheus, OTLP, ...).
//
// # Quick start
//
//	m, err := rtdsotel.New("events", rtdsotel.WithMeterProvider(provider))
//	if err != nil {
//		return err
//	}
//	defer m.Close()
//	p, err := kinesis.NewProducer(client, "events", kinesis.WithHooks(m))
//	...
//	c, err := kinesis.NewConsumer(client, "events", kinesis.WithHooks(m), kinesis.OnOpen(onOpen))
//	m.ObserveConsumer(c) // MillisBehindLatest and leases, from c.Stats()
//
// # Instruments
//
// README.md in this directory has the table of every instrument: name,
// kind, unit, attributes and the hook it comes from. Names and units
// follow the OpenTelemetry semantic conventions for messaging where one
// applies (messaging.client.sent.messages, messaging.client.consumed.messages,
// messaging.client.operation.duration, messaging.process.duration;
// messaging.system = "aws_kinesis", messaging.destination.name = the
// stream, messaging.destination.partition.id = the shard, error.type); the
// rest are named rtds.producer.* and rtds.consumer.*.
//
// # Cost
//
// Every attribute set is computed once (per shard, event type, reason,
// error code, ...) and reused, so the hooks allocate nothing per record;
// BenchmarkProducer and BenchmarkDispatch (make bench) show the adapter's
// CPU per record next to the producer's and the dispatcher's own. At most
// MaxAttributeSets sets are kept per instrument family; further values are
// recorded with rtds.overflow=true.
//
// # Concurrency
//
// Metrics is safe for concurrent use. The hooks are called synchronously
// from the producer's and consumer's goroutines; the observable gauges'
// callback runs on the reader's goroutine and calls the consumers' Stats.
package rtdsotel
