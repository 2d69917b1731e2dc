// Command otel-prometheus consumes an RTDS stream and serves the rtds
// OpenTelemetry metrics (github.com/rtdskit/rtds/otel) on /metrics in the
// Prometheus format, through the OpenTelemetry Prometheus exporter.
//
//	go run . -stream events -addr :9464
//	curl -s localhost:9464/metrics | grep rtds_consumer
//
// The AWS endpoint, region and credentials come from the standard AWS
// configuration (AWS_REGION, AWS_ENDPOINT_URL_KINESIS, ...).
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/config"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
	rtdsotel "github.com/rtdskit/rtds/otel"
)

func main() {
	stream := flag.String("stream", "events", "the Kinesis stream to consume")
	addr := flag.String("addr", ":9464", "address to serve /metrics on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *stream, *addr); err != nil {
		log.Fatal(err)
	}
}

// newMetrics wires rtdsotel to a Prometheus registry: the exporter is the
// MeterProvider's reader, and the registry is what /metrics serves.
func newMetrics(stream string, reg *prometheus.Registry) (*rtdsotel.Metrics, *sdkmetric.MeterProvider, error) {
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, err
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	m, err := rtdsotel.New(stream, rtdsotel.WithMeterProvider(provider))
	if err != nil {
		return nil, nil, err
	}
	return m, provider, nil
}

func run(ctx context.Context, stream, addr string) error {
	reg := prometheus.NewRegistry()
	m, provider, err := newMetrics(stream, reg)
	if err != nil {
		return err
	}
	defer provider.Shutdown(context.Background())
	defer m.Close()

	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	c, err := kinesis.NewConsumer(sdkkinesis.NewFromConfig(cfg), stream,
		kinesis.WithHooks(m),
		kinesis.OnEvent(func(context.Context, event.Event) error { return nil }))
	if err != nil {
		return err
	}
	m.ObserveConsumer(c)

	srv := &http.Server{Addr: addr, Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Print(err)
		}
	}()
	defer srv.Close()
	log.Printf("serving metrics on %s/metrics", addr)
	return c.Run(ctx)
}
