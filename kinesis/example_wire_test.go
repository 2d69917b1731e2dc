package kinesis_test

import (
	"context"
	"fmt"

	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// The fast wire codec is the default; WireSDK falls back to the SDK's own
// codec, for the producer and the consumer alike.
func ExampleWithWireCodec() {
	// In production: client := sdkkinesis.NewFromConfig(cfg).
	client := kinesistest.New(kinesistest.WithStream("events", 1))
	p, err := kinesis.NewProducer(client, "events", kinesis.WithWireCodec(kinesis.WireSDK))
	if err != nil {
		panic(err)
	}
	if err := p.Close(context.Background()); err != nil {
		panic(err)
	}
	_, err = kinesis.NewProducer(client, "events", kinesis.WithWireCodec(kinesis.WireCodec(9)))
	fmt.Println(err)
	// Output: kinesis: unknown wire codec WireCodec(9)
}
