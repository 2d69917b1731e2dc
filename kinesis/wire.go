package kinesis

import (
	"fmt"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/rtdskit/rtds/kinesis/internal/wire"
)

// WireCodec selects how PutRecords requests and GetRecords and PutRecords
// answers are encoded and decoded on the wire (WithWireCodec).
type WireCodec int

const (
	// WireFast, the default, encodes PutRecords requests and decodes
	// successful PutRecords and GetRecords answers with this package's
	// codec, a wrapper of the SDK's awsJson1.1 protocol
	// (sdkkinesis.Options.Protocol) set per call: the same JSON on the
	// wire, the same values in the SDK's types, without its per-record
	// allocations. Errors, every other operation and SubscribeToShard's
	// event stream go to the SDK's codec unchanged, so errors.As on the
	// SDK's error types works as with WireSDK. A client configured with
	// another protocol keeps it.
	WireFast WireCodec = iota
	// WireSDK leaves the SDK's own codec untouched.
	WireSDK
)

func (w WireCodec) String() string {
	switch w {
	case WireFast:
		return "WireFast"
	case WireSDK:
		return "WireSDK"
	}
	return fmt.Sprintf("WireCodec(%d)", int(w))
}

// WithWireCodec sets the codec of PutRecords and GetRecords. Default:
// WireFast. It applies to *sdkkinesis.Client (another ProducerAPI or
// ConsumerAPI ignores it).
//
// With WireFast, the Data of all records of one GetRecords answer share
// one buffer: a program that keeps a record's Data (OnRecord) keeps that
// buffer alive, and appending to it copies (its capacity ends with it).
func WithWireCodec(c WireCodec) Option {
	return commonOption(func(cfg *common) {
		switch c {
		case WireFast, WireSDK:
			cfg.wire = c
		default:
			cfg.setErr(fmt.Errorf("kinesis: unknown wire codec %v", c))
		}
	})
}

// The per-call SDK options of each codec, built once so that a call
// allocates nothing for them.
var (
	putRecordsFast = []func(*sdkkinesis.Options){sdkAttemptOnce[0], wire.UseFast}
	getRecordsFast = []func(*sdkkinesis.Options){wire.UseFast}
)

// putRecordsOpts are the SDK options of every PutRecords call: one
// attempt (sdkAttemptOnce) and the codec.
func (c *common) putRecordsOpts() []func(*sdkkinesis.Options) {
	if c.wire == WireSDK {
		return sdkAttemptOnce
	}
	return putRecordsFast
}

// getRecordsOpts are the SDK options of every GetRecords call.
func (c *common) getRecordsOpts() []func(*sdkkinesis.Options) {
	if c.wire == WireSDK {
		return nil
	}
	return getRecordsFast
}
