package dynamodbstore_test

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/dynamodbstore"
)

// A consumer takes over a shard from a Java KCL worker that died: it
// resumes after the KCL's checkpoint inside a KPL aggregate (sub-sequence
// number included), then reads through a split, leaving a table the KCL
// can read: SHARD_END on the parent with its childShardIds, the children
// with parentShardId and hash keys.
func TestKCLStoreConsumerResumesKCLCheckpointThroughSplit(t *testing.T) {
	t.Parallel()
	kc, _ := testenv.Kinesalite(t)
	stream, _ := testenv.CreateStream(t, kc, 1)
	ctx := context.Background()
	agg, err := batch.NewAggregator()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := agg.Add(batch.Record{PartitionKey: "k", Data: []byte(fmt.Sprintf("agg-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	in := &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream)}
	for i := range 3 {
		in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte(fmt.Sprintf("plain-%d", i))})
	}
	in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: agg.Build().Data})
	in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte("plain-3")})
	out, err := kc.PutRecords(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	shard := aws.ToString(out.Records[0].ShardId)
	st := newKCLStore(t, dynaliteClient(t), stream)
	// The KCL worker handled the plain records and the aggregate's first
	// three user records, then died holding the lease.
	put(t, dynaliteClient(t), st.Table(), kclLease(shard, "java-worker", 17, aws.ToString(out.Records[3].SequenceNumber), 2))

	var mu sync.Mutex
	var got []string
	want := []string{"agg-3", "agg-4", "plain-3"}
	c, err := kinesis.NewConsumer(kc, stream,
		kinesis.WithCheckpointStore(st), kinesis.WithLeases(kinesis.Leases{WorkerID: "rtds-worker", Duration: 300 * time.Millisecond}),
		kinesis.WithIdleWait(10*time.Millisecond), kinesis.WithShardSyncInterval(100*time.Millisecond), kinesis.WithCheckpointInterval(0),
		kinesis.OnRecord(func(_ context.Context, r kinesis.Record) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, string(r.Data))
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- c.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			k := len(got)
			mu.Unlock()
			if k >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("handled %v, want %d records", got, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor(len(want))
	mid := new(big.Int).Lsh(big.NewInt(1), 127)
	if _, err := kc.SplitShard(ctx, &sdkkinesis.SplitShardInput{StreamName: aws.String(stream), ShardToSplit: aws.String(shard), NewStartingHashKey: aws.String(mid.String())}); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if _, err := testenv.WaitActive(wctx, kc, stream); err != nil {
		t.Fatal(err)
	}
	in = &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream)}
	for i := range 20 {
		in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint("child-key-", i)), Data: []byte(fmt.Sprintf("child-%02d", i))})
		want = append(want, fmt.Sprintf("child-%02d", i))
	}
	if _, err := kc.PutRecords(ctx, in); err != nil {
		t.Fatal(err)
	}
	waitFor(len(want))
	mu.Lock()
	gotSorted := slices.Sorted(slices.Values(got))
	mu.Unlock()
	slices.Sort(want)
	if !slices.Equal(gotSorted, want) {
		t.Errorf("handled %v\nwant %v", gotSorted, want)
	}
	// The parent's end checkpoint lands before the children are read.
	items := scan(t, dynaliteClient(t), st.Table())
	checkKCLRules(t, items)
	parent := items[shard]
	if fmt.Sprint(parent["checkpoint"]) != fmt.Sprint(s(dynamodbstore.SentinelShardEnd)) {
		t.Errorf("parent checkpoint = %v, want SHARD_END", parent["checkpoint"])
	}
	kids, _ := parent["childShardIds"].(*ddbtypes.AttributeValueMemberSS)
	if kids == nil || len(kids.Value) != 2 {
		t.Fatalf("parent childShardIds = %v, want the two children", parent["childShardIds"])
	}
	for _, k := range kids.Value {
		if fmt.Sprint(items[k]["parentShardId"]) != fmt.Sprint(ss(shard)) {
			t.Errorf("child %s parentShardId = %v", k, items[k]["parentShardId"])
		}
		if items[k]["startingHashKey"] == nil || items[k]["endingHashKey"] == nil {
			t.Errorf("child %s has no hash keys", k)
		}
	}
}
