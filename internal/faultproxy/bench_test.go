package faultproxy_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
)

// BenchmarkProxyOverhead puts 500 x 300-byte records per call straight to
// kinesalite and through the proxy (no faults, and FailEntries splicing),
// side by side, so the ratio shows what the proxy adds.
func BenchmarkProxyOverhead(b *testing.B) {
	ep := testenv.Lookup(b, testenv.EnvKinesalite)
	hc := testenv.LoopbackHTTPClient()
	b.Cleanup(hc.CloseIdleConnections)
	cfg := testenv.Config()
	cfg.HTTPClient = hc
	newClient := func(endpoint string) *sdkkinesis.Client {
		return sdkkinesis.NewFromConfig(cfg, func(o *sdkkinesis.Options) { o.BaseEndpoint = aws.String(endpoint) })
	}
	direct := newClient(ep)
	stream, _ := testenv.CreateStream(b, direct, 4)
	in := &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream)}
	data := make([]byte, 300)
	for i := range 500 {
		in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint("key-", i)), Data: data})
	}
	for _, bc := range []struct {
		name string
		cfg  *faultproxy.Config
	}{
		{"direct", nil},
		{"proxy", &faultproxy.Config{}},
		{"proxy-splice", &faultproxy.Config{FailEntries: 0.01}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := direct
			if bc.cfg != nil {
				p, err := faultproxy.New(ep, faultproxy.WithConfig(*bc.cfg))
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				c = newClient(p.URL())
			}
			b.SetBytes(500 * 300)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.PutRecords(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
