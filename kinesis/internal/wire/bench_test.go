package wire

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/rtdskit/rtds/event/eventgen"
)

// benchEvents are n generated RTDS events (eventgen, ~925 bytes on
// average).
func benchEvents(n int) [][]byte {
	g := eventgen.New(1)
	es := make([][]byte, n)
	for i := range es {
		es[i] = g.Next()
	}
	return es
}

// getRecordsBody is a realistic GetRecords answer of n records, as the
// SDK's own serializer writes it.
func getRecordsBody(b testing.TB, n int) []byte {
	out := &sdkkinesis.GetRecordsOutput{NextShardIterator: aws.String("AAAAAAAAAAHsW8zCWf9164uy8Epue6WS3w6wmj4a4USt+CNvQpRRUcoWt5Ry5aLnOJbZ5hx0Kb5mS1yU4u2mB7SRCTSoJeQPJwbqBVBqc9Q7vJjZKbDfMhbjz7JWnMrRvOGUsiGC4PqGnY9IhwF1cLnrQeYvCVfNHvZ1YqnvmSFN6H/kVZchV2JYfY1DRfEzXfg13Dd6Dyr3PPTSSKVXmj0jOQ6yFvlQbjqYGPdqI+yHvNFZ5nKSj+R5aMI="), MillisBehindLatest: aws.Int64(0)}
	t0 := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	for i, e := range benchEvents(n) {
		out.Records = append(out.Records, types.Record{
			Data:                        e,
			PartitionKey:                aws.String(fmt.Sprintf("7f1c2a9e-1111-4a2b-8c3d-%012d", i)),
			SequenceNumber:              aws.String(fmt.Sprintf("4968090985923095422639295980369%025d", i)),
			ApproximateArrivalTimestamp: aws.Time(t0.Add(time.Duration(i) * time.Millisecond)),
			EncryptionType:              types.EncryptionTypeNone,
		})
	}
	return sdkBody(b, getRecordsSchema.Output, out)
}

func putRecordsInput(n int) *sdkkinesis.PutRecordsInput {
	in := &sdkkinesis.PutRecordsInput{StreamName: aws.String("airship-events")}
	for i, e := range benchEvents(n) {
		in.Records = append(in.Records, types.PutRecordsRequestEntry{Data: e, PartitionKey: aws.String(fmt.Sprintf("7f1c2a9e-1111-4a2b-8c3d-%012d", i))})
	}
	return in
}

var benchCodecs = []struct {
	name  string
	proto smithyhttp.ClientProtocol
}{{"sdk", sdkProto}, {"fast", fastProto}}

// BenchmarkGetRecordsDecode decodes a 1,000-record GetRecords answer
// (~925-byte events) with the SDK's codec and the fast one, side by side,
// from the HTTP body to the SDK's output type.
func BenchmarkGetRecordsDecode(b *testing.B) {
	body := getRecordsBody(b, 1000)
	for _, c := range benchCodecs {
		b.Run("codec="+c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			rd := bytes.NewReader(body)
			resp := &smithyhttp.Response{Response: &http.Response{StatusCode: 200, Header: http.Header{}, ContentLength: int64(len(body))}}
			for b.Loop() {
				rd.Reset(body)
				resp.Body = io.NopCloser(rd)
				out := &sdkkinesis.GetRecordsOutput{}
				if err := c.proto.DeserializeResponse(context.Background(), getRecordsSchema, sdkkinesis.TypeRegistry, resp, out); err != nil {
					b.Fatal(err)
				}
				if len(out.Records) != 1000 {
					b.Fatalf("%d records", len(out.Records))
				}
			}
		})
	}
}

// BenchmarkPutRecordsSerialize serializes a 500-entry PutRecords request
// (~925-byte events) with both codecs, side by side, up to the request's
// body stream (the signer's SHA-256 of it is the same for both; see
// BenchmarkClient for whole calls).
func BenchmarkPutRecordsSerialize(b *testing.B) {
	in := putRecordsInput(500)
	for _, c := range benchCodecs {
		b.Run("codec="+c.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int64
			for b.Loop() {
				req := smithyhttp.NewStackRequest().(*smithyhttp.Request)
				if err := c.proto.SerializeRequest(context.Background(), putRecordsSchema, in, req); err != nil {
					b.Fatal(err)
				}
				size, _, _ = req.StreamLength()
			}
			b.SetBytes(size)
		})
	}
}

// BenchmarkClient is a whole SDK call (serialization, signing, the SDK's
// middleware, deserialization) of GetRecords (1,000 records) and
// PutRecords (500 entries) against an in-memory transport with a canned
// answer, with each codec side by side.
func BenchmarkClient(b *testing.B) {
	getBody := getRecordsBody(b, 1000)
	in := putRecordsInput(500)
	var putAnswer bytes.Buffer
	putAnswer.WriteString(`{"FailedRecordCount":0,"Records":[`)
	for i := range in.Records {
		if i > 0 {
			putAnswer.WriteByte(',')
		}
		fmt.Fprintf(&putAnswer, `{"SequenceNumber":"4968090985923095422639295980369%025d","ShardId":"shardId-00000000000%d"}`, i, i%4)
	}
	putAnswer.WriteString(`]}`)
	// An in-memory transport answers like the service, so the numbers are
	// the client's alone (no network, no server).
	transport := roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
			_ = r.Body.Close()
		}
		body := getBody
		if r.Header.Get("X-Amz-Target") == "Kinesis_20131202.PutRecords" {
			body = putAnswer.Bytes()
		}
		return &http.Response{
			StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
			Request:       r,
		}, nil
	})
	client := sdkkinesis.New(sdkkinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("https://kinesis.us-east-1.amazonaws.com"),
		Credentials:  staticCreds{},
		HTTPClient:   &http.Client{Transport: transport},
	})
	opts := map[string][]func(*sdkkinesis.Options){"sdk": nil, "fast": {UseFast}}
	for _, op := range []string{"GetRecords", "PutRecords"} {
		for _, c := range []string{"sdk", "fast"} {
			b.Run("op="+op+"/codec="+c, func(b *testing.B) {
				b.ReportAllocs()
				ctx := context.Background()
				for b.Loop() {
					var err error
					if op == "GetRecords" {
						_, err = client.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: aws.String("it")}, opts[c]...)
					} else {
						_, err = client.PutRecords(ctx, in, opts[c]...)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type staticCreds struct{}

func (staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", Source: "bench"}, nil
}
