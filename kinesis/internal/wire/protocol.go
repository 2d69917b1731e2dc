// Package wire is a fast codec for the two Kinesis operations that carry
// records, PutRecords and GetRecords, plugged into aws-sdk-go-v2's
// Kinesis client as a wrapper of its protocol (sdkkinesis.Options.Protocol).
//
// The wrapper serializes PutRecords requests into one buffer in one pass
// (base64 written straight from each entry's data; pooled for a caller
// that tracks its calls, see Track) and decodes
// successful PutRecords and GetRecords answers with a hand-written JSON
// scanner: all records' data of a GetRecords answer are decoded into one
// buffer, their strings into one string. It produces the same bytes and
// the same values as the SDK's awsJson1.1 codec; anything else (errors,
// other operations, event streams, answers the scanner does not handle
// exactly like the SDK) goes to the wrapped protocol unchanged.
package wire

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/schemas"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// awsJSON11 is the ID of the protocol the wrapper knows how to stand in
// for.
var awsJSON11 = smithy.ShapeID{Namespace: "aws.protocols", Name: "awsJson1_1"}

var serviceName = schemas.Kinesis_20131202.Schema.ID().Name

// Protocol wraps the SDK's awsJson1.1 protocol of a Kinesis client.
type Protocol struct {
	inner smithyhttp.ClientProtocol
}

var _ smithyhttp.ClientProtocol = (*Protocol)(nil)

// Wrap returns inner wrapped by the fast codec, or inner itself if it is
// not the awsJson1.1 protocol (a client configured with another protocol
// keeps it) or already wrapped.
func Wrap(inner smithyhttp.ClientProtocol) smithyhttp.ClientProtocol {
	if inner == nil {
		return nil
	}
	if _, ok := inner.(*Protocol); ok {
		return inner
	}
	if inner.ID() != awsJSON11 {
		return inner
	}
	return &Protocol{inner: inner}
}

// Inner returns the wrapped protocol.
func (p *Protocol) Inner() smithyhttp.ClientProtocol { return p.inner }

// UseFast is a per-call option of the SDK's Kinesis client that wraps the
// client's protocol with the fast codec.
func UseFast(o *sdkkinesis.Options) { o.Protocol = Wrap(o.Protocol) }

// ID implements smithyhttp.ClientProtocol.
func (p *Protocol) ID() smithy.ShapeID { return p.inner.ID() }

// SerializeRequest implements smithyhttp.ClientProtocol.
func (p *Protocol) SerializeRequest(ctx context.Context, schema *smithy.OperationSchema, in smithy.Serializable, req *smithyhttp.Request) error {
	pin, ok := in.(*sdkkinesis.PutRecordsInput)
	if !ok || schema.IsInputEventStream() || schema.ID().Name != "PutRecords" {
		return p.inner.SerializeRequest(ctx, schema, in, req)
	}
	req.Method = http.MethodPost
	if len(req.URL.Path) == 0 {
		req.URL.Path = "/"
	}
	req.Header.Set("X-Amz-Target", serviceName+".PutRecords")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	// The body is seekable and has a length, as a bytes.Reader: the signer
	// hashes it in place (it implements io.WriterTo) and rewinds it, and a
	// retry sends it again.
	sreq, err := req.SetStream(putRecordsBody(ctx, pin))
	if err != nil {
		return err
	}
	*req = *sreq
	return nil
}

// DeserializeResponse implements smithyhttp.ClientProtocol.
func (p *Protocol) DeserializeResponse(ctx context.Context, schema *smithy.OperationSchema, types *smithy.TypeRegistry, resp *smithyhttp.Response, out smithy.Deserializable) error {
	if resp.StatusCode < 200 || resp.StatusCode >= 300 || schema.IsOutputEventStream() {
		return p.inner.DeserializeResponse(ctx, schema, types, resp, out)
	}
	var decode func([]byte) bool
	switch o := out.(type) {
	case *sdkkinesis.GetRecordsOutput:
		decode = func(b []byte) bool { return decodeGetRecords(b, o) }
	case *sdkkinesis.PutRecordsOutput:
		decode = func(b []byte) bool { return decodePutRecords(b, o) }
	default:
		return p.inner.DeserializeResponse(ctx, schema, types, resp, out)
	}
	buf := getBody()
	defer putBody(buf)
	var err error
	*buf, err = readBody((*buf)[:0], resp.Body, resp.ContentLength)
	if err != nil {
		return &smithy.DeserializationError{Err: err}
	}
	payload := *buf
	if len(payload) == 0 || len(payload) < maxFastBody && decode(payload) {
		return nil
	}
	// The answer has something the fast decoder does not handle exactly
	// like the SDK (or is malformed): the SDK's codec decides.
	r := *resp.Response
	r.Body = io.NopCloser(bytes.NewReader(payload))
	return p.inner.DeserializeResponse(ctx, schema, types, &smithyhttp.Response{Response: &r}, out)
}

// HasInitialEventMessage implements smithyhttp.ClientProtocol.
func (p *Protocol) HasInitialEventMessage() bool { return p.inner.HasInitialEventMessage() }

// SerializeEventMessage implements smithyhttp.ClientProtocol.
func (p *Protocol) SerializeEventMessage(schema, variant *smithy.Schema, v smithy.Serializable, w io.Writer) error {
	return p.inner.SerializeEventMessage(schema, variant, v, w)
}

// DeserializeEventMessage implements smithyhttp.ClientProtocol.
func (p *Protocol) DeserializeEventMessage(schema *smithy.Schema, types *smithy.TypeRegistry, r io.Reader) (smithy.Deserializable, error) {
	return p.inner.DeserializeEventMessage(schema, types, r)
}

// SerializeInitialRequest implements smithyhttp.ClientProtocol.
func (p *Protocol) SerializeInitialRequest(schema *smithy.Schema, v smithy.Serializable, w io.Writer) error {
	return p.inner.SerializeInitialRequest(schema, v, w)
}

// DeserializeInitialResponse implements smithyhttp.ClientProtocol.
func (p *Protocol) DeserializeInitialResponse(schema *smithy.Schema, r io.Reader, out smithy.Deserializable) error {
	return p.inner.DeserializeInitialResponse(schema, r, out)
}

// maxFastBody bounds the answers the fast decoder takes (its offsets are
// int32; a GetRecords answer is at most about 14 MB).
const maxFastBody = 1 << 30

// Response bodies are read into pooled buffers sized by Content-Length (a
// GetRecords answer is up to about 14 MB of JSON); nothing decoded points
// into them.
const maxPooledBody = 16 << 20

var bodies = sync.Pool{New: func() any { return new([]byte) }}

func getBody() *[]byte { return bodies.Get().(*[]byte) }

func putBody(b *[]byte) {
	if cap(*b) <= maxPooledBody {
		*b = (*b)[:0]
		bodies.Put(b)
	}
}

// readBody appends all of r to b, growing b once to the announced length
// (plus one byte, so that the read that sees the end needs no room).
func readBody(b []byte, r io.Reader, length int64) ([]byte, error) {
	if r == nil {
		return b, nil
	}
	if length > 0 && length < 1<<31 && int64(cap(b)-len(b)) <= length {
		nb := make([]byte, len(b), len(b)+int(length)+1)
		copy(nb, b)
		b = nb
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
