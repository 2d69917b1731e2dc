package dynamodbstore_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/dynamodbstore"
	"github.com/rtdskit/rtds/kinesis/storetest"
)

// newKCLStore returns a KCLStore of stream on a fresh table, created as
// the KCL creates it and deleted when t ends.
func newKCLStore(t *testing.T, client *dynamodb.Client, stream string, opts ...dynamodbstore.KCLOption) *dynamodbstore.KCLStore {
	t.Helper()
	table := testenv.UniqueName("rtds-kcl")
	s, err := dynamodbstore.NewKCL(client, table, stream, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// The conformance suite, with the store's own stream being the one the
// checkpoint behaviours use, and then the one the lease behaviours use, so
// both run on items keyed by the bare shard id as the KCL keys them.
func TestKCLStoreConformance(t *testing.T) {
	t.Parallel()
	client := dynaliteClient(t)
	for _, stream := range []string{"storetest-stream", "storetest-leases"} {
		t.Run(stream, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) kinesis.CheckpointStore { return newKCLStore(t, client, stream) })
		})
	}
}

func s(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
func n(v int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
func ss(v ...string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberSS{Value: v} }

// kclLease is an item as the KCL's DynamoDBLeaseSerializer writes it
// (toDynamoRecord): every attribute it always writes, the optional ones
// only when set, never an empty string or set.
func kclLease(shard, owner string, counter int64, checkpoint string, sub int64, parents ...string) map[string]ddbtypes.AttributeValue {
	item := map[string]ddbtypes.AttributeValue{
		"leaseKey":                     s(shard),
		"leaseCounter":                 n(counter),
		"ownerSwitchesSinceCheckpoint": n(0),
		"checkpoint":                   s(checkpoint),
		"checkpointSubSequenceNumber":  n(sub),
		"startingHashKey":              s("0"),
		"endingHashKey":                s("340282366920938463463374607431768211455"),
	}
	if owner != "" {
		item["leaseOwner"] = s(owner)
	}
	if len(parents) > 0 {
		item["parentShardId"] = ss(parents...)
	}
	return item
}

func put(t *testing.T, client *dynamodb.Client, table string, item map[string]ddbtypes.AttributeValue) {
	t.Helper()
	if _, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

// Items written exactly as the KCL writes them are resumed from their
// checkpoints, sub-sequence number included; sentinels are no position;
// leases, including a KCL 3.x graceful handoff, read as rtds leases.
func TestKCLStoreResumesKCLItems(t *testing.T) {
	t.Parallel()
	client := dynaliteClient(t)
	st := newKCLStore(t, client, "events")
	const seq = "49590338271490256608559692538361571095921575989136588898"
	pending := kclLease("shardId-000000000004", "java-worker-2", 7, seq, 0)
	pending["pendingCheckpoint"] = s("49590338271490256608559692538361571095921575989136588999")
	pending["pendingCheckpointSubSequenceNumber"] = n(0)
	handoff := kclLease("shardId-000000000005", "java-worker-2", 9, seq, 0)
	handoff["checkpointOwner"] = s("java-worker-1")
	handoff["throughputKBps"] = &ddbtypes.AttributeValueMemberN{Value: "12.5"}
	for _, item := range []map[string]ddbtypes.AttributeValue{
		kclLease("shardId-000000000000", "java-worker-1", 42, seq, 3),
		kclLease("shardId-000000000001", "", 5, "SHARD_END", 0),
		kclLease("shardId-000000000002", "", 0, "TRIM_HORIZON", 0, "shardId-000000000001"),
		kclLease("shardId-000000000003", "java-worker-1", 3, "LATEST", 0),
		pending, handoff,
	} {
		put(t, client, st.Table(), item)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		shard string
		want  kinesis.Checkpoint
		ok    bool
	}{
		{"shardId-000000000000", kinesis.Checkpoint{SequenceNumber: seq, SubSequenceNumber: 3}, true},
		{"shardId-000000000001", kinesis.Checkpoint{ShardEnded: true}, true},
		{"shardId-000000000002", kinesis.Checkpoint{}, false},
		{"shardId-000000000003", kinesis.Checkpoint{}, false},
		{"shardId-000000000004", kinesis.Checkpoint{SequenceNumber: seq}, true},
	} {
		got, ok, err := st.Load(ctx, "events", tc.shard)
		if err != nil || ok != tc.ok || got != tc.want {
			t.Errorf("Load %s = %v, %v, %v; want %v, %v", tc.shard, got, ok, err, tc.want, tc.ok)
		}
	}
	ls, err := st.ListLeases(ctx, "events")
	if err != nil {
		t.Fatal(err)
	}
	want := []kinesis.Lease{
		{ShardID: "shardId-000000000000", Owner: "java-worker-1", Counter: 42},
		{ShardID: "shardId-000000000001", Counter: 5, ShardEnded: true},
		{ShardID: "shardId-000000000002"},
		{ShardID: "shardId-000000000003", Owner: "java-worker-1", Counter: 3},
		{ShardID: "shardId-000000000004", Owner: "java-worker-2", Counter: 7},
		{ShardID: "shardId-000000000005", Owner: "java-worker-1", Counter: 9, HandoffTo: "java-worker-2"},
	}
	if fmt.Sprint(ls) != fmt.Sprint(want) {
		t.Errorf("ListLeases =\n%v\nwant\n%v", ls, want)
	}
	// A consumer takes the KCL's leases and checkpoints past them: the
	// counter swap works on the KCL's counters, and the attributes the KCL
	// wrote survive.
	l := ls[0]
	next := kinesis.Lease{ShardID: l.ShardID, Owner: "rtds-worker", Counter: l.Counter + 1}
	if err := st.UpdateLease(ctx, "events", l, next); err != nil {
		t.Fatal(err)
	}
	free := kinesis.Lease{ShardID: "shardId-000000000002"}
	if err := st.UpdateLease(ctx, "events", free, kinesis.Lease{ShardID: free.ShardID, Owner: "rtds-worker", Counter: 1}); err != nil {
		t.Fatalf("take a KCL lease created with counter 0: %v", err)
	}
	if err := st.Save(ctx, "events", l.ShardID, kinesis.Checkpoint{SequenceNumber: seq, SubSequenceNumber: 2}); err == nil {
		t.Error("Save behind the KCL's checkpoint succeeded")
	}
	if err := st.Save(ctx, "events", "shardId-000000000004", kinesis.Checkpoint{SequenceNumber: seq, SubSequenceNumber: 1}); err != nil {
		t.Fatal(err)
	}
	items := scan(t, client, st.Table())
	checkKCLRules(t, items)
	if got := items["shardId-000000000005"]["throughputKBps"]; got == nil {
		t.Error("throughputKBps, written by the KCL, was dropped")
	}
	if got := items["shardId-000000000002"]["parentShardId"]; got == nil {
		t.Error("parentShardId, written by the KCL, was dropped")
	}
	if _, ok := items["shardId-000000000004"]["pendingCheckpoint"]; ok {
		t.Error("pendingCheckpoint survived a checkpoint")
	}
	if got := items["shardId-000000000000"]["ownerSwitchesSinceCheckpoint"]; fmt.Sprint(got) != fmt.Sprint(n(1)) {
		t.Errorf("ownerSwitchesSinceCheckpoint after taking the lease = %v, want 1", got)
	}
}

// Items rtds writes follow the KCL's rules, from the first lease to the
// shard's end: start positions are the KCL's sentinels until a sequence
// number replaces them.
func TestKCLStoreWritesWhatTheKCLReads(t *testing.T) {
	t.Parallel()
	client := dynaliteClient(t)
	st := newKCLStore(t, client, "events", dynamodbstore.WithInitialPosition(kinesis.StartLatest))
	ctx := context.Background()
	const sh = "shardId-000000000000"
	l1 := kinesis.Lease{ShardID: sh, Owner: "a", Counter: 1}
	if err := st.UpdateLease(ctx, "events", kinesis.Lease{ShardID: sh}, l1); err != nil {
		t.Fatal(err)
	}
	items := scan(t, client, st.Table())
	checkKCLRules(t, items)
	if got := items[sh]["checkpoint"]; fmt.Sprint(got) != fmt.Sprint(s("LATEST")) {
		t.Errorf("checkpoint of a new lease = %v, want LATEST", got)
	}
	started := time.Date(2026, 12, 7, 1, 2, 3, 4_000_000, time.UTC)
	if err := st.Save(ctx, "events", sh, kinesis.Checkpoint{Timestamp: started}); err != nil {
		t.Fatal(err)
	}
	items = scan(t, client, st.Table())
	checkKCLRules(t, items)
	if got := items[sh]["checkpoint"]; fmt.Sprint(got) != fmt.Sprint(s("LATEST")) {
		t.Errorf("checkpoint of a start time = %v, want the LATEST sentinel", got)
	}
	if cp, ok, err := st.Load(ctx, "events", sh); err != nil || !ok || !cp.Timestamp.Equal(started) {
		t.Errorf("Load of a start time = %v, %v, %v", cp, ok, err)
	}
	// Handoff as KCL 3.x writes it, then a checkpoint, then the end.
	l2 := kinesis.Lease{ShardID: sh, Owner: "a", HandoffTo: "b", Counter: 2}
	if err := st.UpdateLease(ctx, "events", l1, l2); err != nil {
		t.Fatal(err)
	}
	items = scan(t, client, st.Table())
	checkKCLRules(t, items)
	if o, c := items[sh]["leaseOwner"], items[sh]["checkpointOwner"]; fmt.Sprint(o) != fmt.Sprint(s("b")) || fmt.Sprint(c) != fmt.Sprint(s("a")) {
		t.Errorf("handoff written as leaseOwner %v, checkpointOwner %v; want b, a", o, c)
	}
	if err := st.Save(ctx, "events", sh, kinesis.Checkpoint{SequenceNumber: "12345", SubSequenceNumber: 4}); err != nil {
		t.Fatal(err)
	}
	l3 := kinesis.Lease{ShardID: sh, Owner: "b", Counter: 3}
	if err := st.UpdateLease(ctx, "events", l2, l3); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, "events", sh, kinesis.Checkpoint{SequenceNumber: "12399", ShardEnded: true}); err != nil {
		t.Fatal(err)
	}
	items = scan(t, client, st.Table())
	checkKCLRules(t, items)
	if got := items[sh]["checkpoint"]; fmt.Sprint(got) != fmt.Sprint(s("SHARD_END")) {
		t.Errorf("checkpoint of an ended shard = %v, want SHARD_END", got)
	}
	if _, ok := items[sh]["checkpointOwner"]; ok {
		t.Error("checkpointOwner left after the handoff completed")
	}
}

func scan(t *testing.T, client *dynamodb.Client, table string) map[string]map[string]ddbtypes.AttributeValue {
	t.Helper()
	out, err := client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	items := map[string]map[string]ddbtypes.AttributeValue{}
	for _, it := range out.Items {
		items[it["leaseKey"].(*ddbtypes.AttributeValueMemberS).Value] = it
	}
	return items
}

// checkKCLRules applies the rules of the KCL's DynamoDBLeaseSerializer
// (fromDynamoRecord) and of its checkpoint parsing to items: the
// attributes it always reads are there with their types; optional ones
// have their types; no empty string or set; checkpoint is a decimal
// sequence number or a sentinel; counters are longs.
func checkKCLRules(t *testing.T, items map[string]map[string]ddbtypes.AttributeValue) {
	t.Helper()
	types := map[string]string{
		"leaseKey": "S", "leaseOwner": "S", "leaseCounter": "N", "ownerSwitchesSinceCheckpoint": "N",
		"checkpoint": "S", "checkpointSubSequenceNumber": "N", "pendingCheckpoint": "S",
		"pendingCheckpointSubSequenceNumber": "N", "pendingCheckpointState": "B",
		"parentShardId": "SS", "childShardIds": "SS", "startingHashKey": "S", "endingHashKey": "S",
		"checkpointOwner": "S", "throughputKBps": "N",
	}
	required := []string{"leaseKey", "leaseCounter", "ownerSwitchesSinceCheckpoint", "checkpoint", "checkpointSubSequenceNumber"}
	for key, item := range items {
		for _, r := range required {
			if _, ok := item[r]; !ok {
				t.Errorf("item %s: no %s (the KCL reads it unconditionally)", key, r)
			}
		}
		for name, v := range item {
			var typ string
			switch v := v.(type) {
			case *ddbtypes.AttributeValueMemberS:
				typ = "S"
				if v.Value == "" {
					t.Errorf("item %s: %s is an empty string", key, name)
				}
			case *ddbtypes.AttributeValueMemberN:
				typ = "N"
			case *ddbtypes.AttributeValueMemberB:
				typ = "B"
			case *ddbtypes.AttributeValueMemberSS:
				typ = "SS"
				if len(v.Value) == 0 {
					t.Errorf("item %s: %s is an empty set", key, name)
				}
			default:
				typ = fmt.Sprintf("%T", v)
			}
			if want, ok := types[name]; ok && want != typ {
				t.Errorf("item %s: %s is %s, want %s", key, name, typ, want)
			}
			if nv, ok := v.(*ddbtypes.AttributeValueMemberN); ok && name != "throughputKBps" {
				if _, err := strconv.ParseInt(nv.Value, 10, 64); err != nil {
					t.Errorf("item %s: %s = %s is not a Java long", key, name, nv.Value)
				}
			}
		}
		if cp, ok := item["checkpoint"].(*ddbtypes.AttributeValueMemberS); ok {
			switch cp.Value {
			case "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP", "SHARD_END":
			default:
				if (kinesis.Checkpoint{SequenceNumber: cp.Value}).Validate() != nil {
					t.Errorf("item %s: checkpoint %q is neither a sequence number nor a sentinel", key, cp.Value)
				}
			}
		}
	}
}
