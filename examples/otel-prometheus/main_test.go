package main

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

func TestMetricsEndpointServesTheProducersCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, provider, err := newMetrics("s", reg)
	if err != nil {
		t.Fatal(err)
	}
	defer provider.Shutdown(context.Background())
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	p, err := kinesis.NewProducer(f, "s", kinesis.WithHooks(m))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		if err := p.Put(ctx, "k", []byte(`{"id":"1","type":"OPEN","body":{}}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `messaging_client_sent_messages_total{messaging_destination_name="s",messaging_system="aws_kinesis",otel_scope_name="github.com/rtdskit/rtds/otel"`
	if !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %s:\n%s", want, body)
	}
}
