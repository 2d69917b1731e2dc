package rtdsotel_test

import (
	"context"

	"go.opentelemetry.io/otel/metric"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
	rtdsotel "github.com/rtdskit/rtds/otel"
)

// readmeSnippet is the README's "Seeing what flows" snippet, compiled here
// (internal/readme checks that the README shows this code to the letter).
func readmeSnippet(provider metric.MeterProvider, client interface {
	kinesis.ProducerAPI
	kinesis.ConsumerAPI
}, onOpen func(context.Context, *event.Open) error) (*kinesis.Producer, *kinesis.Consumer, error) {
	m, err := rtdsotel.New("events", rtdsotel.WithMeterProvider(provider)) // any exporter: Prometheus, OTLP
	p, err := kinesis.NewProducer(client, "events", kinesis.WithHooks(m))
	c, err := kinesis.NewConsumer(client, "events", kinesis.WithHooks(m), kinesis.OnOpen(onOpen))
	m.ObserveConsumer(c) // MillisBehindLatest per shard and leases per worker, from c.Stats()
	return p, c, err
}
