package kinesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis/internal/wire"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

var wireCmp = cmp.Options{
	cmpopts.IgnoreUnexported(sdktypes.Record{}, sdktypes.ChildShard{}, sdktypes.HashKeyRange{}, sdktypes.PutRecordsResultEntry{},
		sdkkinesis.GetRecordsOutput{}, sdkkinesis.PutRecordsOutput{}),
	cmpopts.IgnoreTypes(middleware.Metadata{}),
}

// wireCodecs are the per-call options of each codec, as the producer and
// consumer pass them.
var wireCodecs = []struct {
	name string
	opts []func(*sdkkinesis.Options)
}{
	{"fast", []func(*sdkkinesis.Options){wire.UseFast}},
	{"sdk", nil},
}

// wireEntries are PutRecords entries that exercise the codec: keys with
// characters JSON escapes, non-ASCII keys, binary and empty-ish data, an
// explicit hash key, KPL aggregates, and ~925-byte events.
func wireEntries(prefix string) []sdktypes.PutRecordsRequestEntry {
	keys := []string{"plain", `quote"back\slash`, "tab\tnewline\n", "日本語-ключ-é", "\u2028sep", "ctl\x01\x7f", "/slash/"}
	var es []sdktypes.PutRecordsRequestEntry
	for i := range 60 {
		var data []byte
		switch i % 4 {
		case 0:
			data = testEvent(fmt.Sprintf("%s-%d", prefix, i), event.TypeOpen, "user")
		case 1:
			data = make([]byte, 925)
			for j := range data {
				data[j] = byte(i*31 + j)
			}
		case 2:
			data = kplAggregate([]string{"agg-a", "agg-b"}, [][]byte{[]byte("one"), []byte(`{"two":2}`), {0, 255, 1}})
		default:
			data = []byte{byte(i)}
		}
		e := sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(keys[i%len(keys)] + fmt.Sprint(i)), Data: data}
		if i%9 == 0 {
			e.ExplicitHashKey = aws.String("170141183460469231731687303715884105728")
		}
		es = append(es, e)
	}
	return es
}

// readShard reads a shard from TRIM_HORIZON to its end (or until an empty
// answer on an open shard) with the given codec options, Limit n.
func readShard(t *testing.T, client *sdkkinesis.Client, stream, shard string, n int32, opts []func(*sdkkinesis.Options)) []*sdkkinesis.GetRecordsOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	it, err := client.GetShardIterator(ctx, &sdkkinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(shard), ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon}, opts...)
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}
	var outs []*sdkkinesis.GetRecordsOutput
	iter := it.ShardIterator
	for iter != nil && len(outs) < 100 {
		out, err := client.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(n)}, opts...)
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		outs = append(outs, out)
		iter = out.NextShardIterator
		if len(out.Records) == 0 && (out.MillisBehindLatest == nil || *out.MillisBehindLatest == 0) && out.ChildShards == nil && iter != nil {
			break // caught up on an open shard
		}
	}
	return outs
}

// stripIterators blanks the iterators and the lag, which differ between
// two reads.
func stripIterators(outs []*sdkkinesis.GetRecordsOutput) []*sdkkinesis.GetRecordsOutput {
	var r []*sdkkinesis.GetRecordsOutput
	for _, o := range outs {
		c := *o
		if c.NextShardIterator != nil {
			c.NextShardIterator = aws.String("<iterator>")
		}
		if c.MillisBehindLatest != nil {
			c.MillisBehindLatest = aws.Int64(0)
		}
		r = append(r, &c)
	}
	return r
}

// The fast codec against both emulators: every operation rtds uses, with
// PutRecords answers and GetRecords answers (plain, aggregated, after a
// split, with ChildShards when the emulator sends them) decoded the same
// by both codecs, and the SDK's typed errors still found by errors.As.
func TestWireCodecConformance(t *testing.T) {
	for _, em := range emulators {
		t.Run(em.name, func(t *testing.T) {
			t.Parallel()
			client, _ := em.client(t)
			closeIdle(t, client)
			stream, _ := testenv.CreateStream(t, client, 2)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()

			// PutRecords through each codec; the answers have the same shape.
			var sent []sdktypes.PutRecordsRequestEntry
			for _, codec := range wireCodecs {
				es := wireEntries(codec.name)
				out, err := client.PutRecords(ctx, &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream), Records: es}, codec.opts...)
				if err != nil {
					t.Fatalf("%s PutRecords: %v", codec.name, err)
				}
				if aws.ToInt32(out.FailedRecordCount) != 0 || len(out.Records) != len(es) {
					t.Fatalf("%s PutRecords: %d failed, %d results for %d entries", codec.name, aws.ToInt32(out.FailedRecordCount), len(out.Records), len(es))
				}
				for i, r := range out.Records {
					if r.SequenceNumber == nil || r.ShardId == nil || r.ErrorCode != nil {
						t.Fatalf("%s PutRecords result %d: %+v", codec.name, i, r)
					}
				}
				sent = append(sent, es...)
			}

			// ListShards through each codec (delegated): the same shards.
			shards := map[string][]string{}
			for _, codec := range wireCodecs {
				ls, err := client.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)}, codec.opts...)
				if err != nil {
					t.Fatalf("%s ListShards: %v", codec.name, err)
				}
				for _, s := range ls.Shards {
					shards[codec.name] = append(shards[codec.name], aws.ToString(s.ShardId))
				}
			}
			if !slices.Equal(shards["fast"], shards["sdk"]) || len(shards["fast"]) != 2 {
				t.Fatalf("ListShards: %v", shards)
			}

			// Split a shard, then write more, so that the parent is closed.
			parent := shards["fast"][0]
			if _, err := client.SplitShard(ctx, &sdkkinesis.SplitShardInput{StreamName: aws.String(stream), ShardToSplit: aws.String(parent), NewStartingHashKey: aws.String("85070591730234615865843651857942052864")}); err != nil {
				t.Fatalf("SplitShard: %v", err)
			}
			if _, err := testenv.WaitActive(ctx, client, stream); err != nil {
				t.Fatal(err)
			}
			if _, err := client.PutRecords(ctx, &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream), Records: wireEntries("after")}, wire.UseFast); err != nil {
				t.Fatalf("PutRecords after the split: %v", err)
			}
			ls, err := client.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
			if err != nil {
				t.Fatal(err)
			}

			// GetRecords: the same answers through both codecs, and every
			// record sent is read back intact.
			var got []sdktypes.Record
			sawChildren := false
			for _, s := range ls.Shards {
				for _, limit := range []int32{7, 10000} {
					fast := readShard(t, client, stream, aws.ToString(s.ShardId), limit, wireCodecs[0].opts)
					sdk := readShard(t, client, stream, aws.ToString(s.ShardId), limit, wireCodecs[1].opts)
					if diff := cmp.Diff(stripIterators(sdk), stripIterators(fast), wireCmp); diff != "" {
						t.Fatalf("shard %s limit %d: GetRecords answers differ (-sdk +fast):\n%s", aws.ToString(s.ShardId), limit, diff)
					}
					if limit == 10000 {
						for _, o := range fast {
							got = append(got, o.Records...)
							if o.ChildShards != nil {
								sawChildren = true
								if aws.ToString(s.ShardId) != parent || len(o.ChildShards) != 2 || o.ChildShards[0].HashKeyRange == nil {
									t.Errorf("ChildShards of %s: %+v", aws.ToString(s.ShardId), o.ChildShards)
								}
							}
						}
					}
				}
			}
			t.Logf("%s: ChildShards sent after the split: %v", em.name, sawChildren)
			sent = append(sent, wireEntries("after")...)
			if len(got) != len(sent) {
				t.Fatalf("read %d records, sent %d", len(got), len(sent))
			}
			for _, r := range got {
				if r.SequenceNumber == nil || r.ApproximateArrivalTimestamp == nil {
					t.Fatalf("record without sequence number or timestamp: %+v", r)
				}
			}
			want := map[string]int{}
			for _, e := range sent {
				want[aws.ToString(e.PartitionKey)+"\x00"+string(e.Data)]++
			}
			for _, r := range got {
				want[aws.ToString(r.PartitionKey)+"\x00"+string(r.Data)]--
			}
			for k, n := range want {
				if n != 0 {
					t.Errorf("record %q: %d more sent than read", k, n)
				}
			}

			// Errors keep their SDK types through the fast codec.
			_, err = client.PutRecords(ctx, &sdkkinesis.PutRecordsInput{StreamName: aws.String("no-such-stream-" + stream), Records: wireEntries("x")[:1]}, wire.UseFast)
			var notFound *sdktypes.ResourceNotFoundException
			if !errors.As(err, &notFound) {
				t.Errorf("PutRecords to a missing stream: %T %v, want ResourceNotFoundException", err, err)
			}
			// A bad iterator: whatever error the emulator answers, both
			// codecs report the same.
			var errs []string
			for _, codec := range wireCodecs {
				_, err = client.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: aws.String("AAAAAAAAAAGarbageIterator=")}, append([]func(*sdkkinesis.Options){func(o *sdkkinesis.Options) { o.RetryMaxAttempts = 1 }}, codec.opts...)...)
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("%s GetRecords with a bad iterator: %T %v", codec.name, err, err)
				}
				errs = append(errs, fmt.Sprintf("%T %s", apiErr, apiErr.ErrorCode()))
			}
			if errs[0] != errs[1] {
				t.Errorf("GetRecords with a bad iterator: fast %s, sdk %s", errs[0], errs[1])
			}
			t.Logf("%s: GetRecords with a bad iterator: %s", em.name, errs[0])
		})
	}
}

// Partial failures and throttling (injected by the fault proxy, as the
// emulators never fail part of a write) decode the same through both
// codecs, and the throttling error keeps its SDK type.
func TestWireCodecFaults(t *testing.T) {
	for _, em := range emulators {
		t.Run(em.name, func(t *testing.T) {
			t.Parallel()
			_, ep := em.client(t)
			proxy, err := faultproxy.New(ep, faultproxy.WithSeed(3), faultproxy.WithConfig(faultproxy.Config{Ops: []string{"PutRecords"}, FailEntries: 0.3}))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = proxy.Close() })
			client := testenv.KinesisClient(proxy.URL(), func(o *sdkkinesis.Options) { o.RetryMaxAttempts = 1 })
			closeIdle(t, client)
			stream, _ := testenv.CreateStream(t, client, 1)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for _, codec := range wireCodecs {
				out, err := client.PutRecords(ctx, &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream), Records: wireEntries(codec.name)}, codec.opts...)
				if err != nil {
					t.Fatalf("%s: %v", codec.name, err)
				}
				failed := 0
				for _, r := range out.Records {
					if r.ErrorCode != nil {
						failed++
						if r.ErrorMessage == nil || r.SequenceNumber != nil {
							t.Errorf("%s: failed entry %+v", codec.name, r)
						}
					}
				}
				if failed == 0 || int32(failed) != aws.ToInt32(out.FailedRecordCount) {
					t.Errorf("%s: %d failed entries, FailedRecordCount %d", codec.name, failed, aws.ToInt32(out.FailedRecordCount))
				}
			}
			if err := proxy.SetConfig(faultproxy.Config{Throttle: 1}); err != nil {
				t.Fatal(err)
			}
			for _, codec := range wireCodecs {
				_, err := client.PutRecords(ctx, &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream), Records: wireEntries(codec.name)[:2]}, codec.opts...)
				var throttled *sdktypes.ProvisionedThroughputExceededException
				if !errors.As(err, &throttled) {
					t.Errorf("%s PutRecords: %T %v, want ProvisionedThroughputExceededException", codec.name, err, err)
				}
				_, err = client.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: aws.String("x")}, codec.opts...)
				if !errors.As(err, &throttled) {
					t.Errorf("%s GetRecords: %T %v, want ProvisionedThroughputExceededException", codec.name, err, err)
				}
			}
		})
	}
}

// A producer and a consumer with each codec move the same events.
func TestWireCodecProducerConsumer(t *testing.T) {
	for _, em := range emulators {
		for _, codec := range []WireCodec{WireFast, WireSDK} {
			t.Run(em.name+"/"+codec.String(), func(t *testing.T) {
				t.Parallel()
				client, _ := em.client(t)
				closeIdle(t, client)
				stream, _ := testenv.CreateStream(t, client, 2)
				es, want := eventEntries("w", 300, 17)
				p, err := NewProducer(client, stream, WithAggregation(true), WithWireCodec(codec))
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				for _, e := range es {
					if err := p.Put(ctx, e.pk, e.data); err != nil {
						t.Fatal(err)
					}
				}
				if err := p.Close(ctx); err != nil {
					t.Fatalf("Close: %v", err)
				}
				rec := newRecorder(len(es))
				c, err := NewConsumer(client, stream, append(fastConsumer(), OnRecord(rec.record), WithWireCodec(codec))...)
				if err != nil {
					t.Fatal(err)
				}
				stop := startConsumer(t, c)
				rec.wait(t, 30*time.Second)
				if err := stop(); err != nil {
					t.Fatalf("Run: %v", err)
				}
				if diff := cmp.Diff(want, ids(rec.snapshot())); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestWithWireCodecInvalid(t *testing.T) {
	if _, err := NewProducer(kinesistest.New(), "s", WithWireCodec(WireCodec(7))); err == nil {
		t.Fatal("NewProducer accepted WireCodec(7)")
	}
}

// SubscribeToShard's event stream goes through the wrapped protocol
// unchanged: a client whose protocol is wrapped for every call reads with
// enhanced fan-out (kinesis-local).
func TestWireCodecFanOut(t *testing.T) {
	t.Parallel()
	ep, hc, _ := testenv.KinesisLocalFanOutHTTP(t)
	client := testenv.KinesisClient(ep, func(o *sdkkinesis.Options) { o.HTTPClient = hc }, wire.UseFast)
	if _, ok := client.Options().Protocol.(*wire.Protocol); !ok {
		t.Fatalf("protocol %T is not wrapped", client.Options().Protocol)
	}
	stream, _ := testenv.CreateStream(t, client, 2)
	es, want := eventEntries("wf", 200, 11)
	rec := newRecorder(len(es))
	putHalves(t, client, stream, es, time.Second)
	consume(t, client, stream, rec, 60*time.Second, OnRecord(rec.record), WithEnhancedFanOut(testenv.UniqueName("wire")), WithFanOutDeregister())
	checkOnceInOrder(t, rec, want)
}
