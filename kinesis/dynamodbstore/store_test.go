package dynamodbstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rtdskit/rtds/internal/dynamodbtest"
	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/dynamodbstore"
	"github.com/rtdskit/rtds/kinesis/storetest"
)

func dynaliteClient(t *testing.T) *dynamodb.Client {
	t.Helper()
	client, _ := testenv.DynamoDB(t)
	return client
}

func TestStoreConformance(t *testing.T) {
	t.Parallel()
	client := dynaliteClient(t)
	storetest.Run(t, func(t *testing.T) kinesis.CheckpointStore { return dynamodbtest.NewStore(t, client) })
}

func TestStaleWriterErrorWrapsTheSDKError(t *testing.T) {
	t.Parallel()
	s := dynamodbtest.NewStore(t, dynaliteClient(t))
	ctx := context.Background()
	if err := s.Save(ctx, "s", "shardId-1", kinesis.Checkpoint{SequenceNumber: "200"}); err != nil {
		t.Fatal(err)
	}
	err := s.Save(ctx, "s", "shardId-1", kinesis.Checkpoint{SequenceNumber: "100"})
	if !errors.Is(err, kinesis.ErrCheckpointBehind) {
		t.Fatalf("err = %v, want kinesis.ErrCheckpointBehind", err)
	}
	var ccf *ddbtypes.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("errors.As(%v, *ConditionalCheckFailedException) = false; the SDK error must stay reachable", err)
	}
	if !strings.Contains(err.Error(), "stored 200/0") {
		t.Errorf("error %q does not name the stored position", err)
	}
}

func TestApplicationsHaveTheirOwnCheckpoints(t *testing.T) {
	t.Parallel()
	client := dynaliteClient(t)
	a := dynamodbtest.NewStore(t, client, dynamodbstore.WithApplication("uninstall-emailer"))
	b, err := dynamodbstore.New(client, a.Table(), dynamodbstore.WithApplication("archiver"))
	if err != nil {
		t.Fatal(err)
	}
	def, err := dynamodbstore.New(client, a.Table())
	if err != nil {
		t.Fatal(err)
	}
	if def.Application() != dynamodbstore.DefaultApplication {
		t.Errorf("default application = %q, want %q", def.Application(), dynamodbstore.DefaultApplication)
	}
	ctx := context.Background()
	if err := a.Save(ctx, "events", "shardId-0", kinesis.Checkpoint{SequenceNumber: "500"}); err != nil {
		t.Fatal(err)
	}
	// Another application starts behind: its checkpoints are its own.
	if _, ok, err := b.Load(ctx, "events", "shardId-0"); ok || err != nil {
		t.Fatalf("other application sees a checkpoint: ok=%v err=%v", ok, err)
	}
	if err := b.Save(ctx, "events", "shardId-0", kinesis.Checkpoint{SequenceNumber: "3"}); err != nil {
		t.Fatalf("other application's Save behind the first one's checkpoint: %v", err)
	}
	for _, tc := range []struct {
		s    *dynamodbstore.Store
		want string
	}{{a, "500"}, {b, "3"}} {
		got, ok, err := tc.s.Load(ctx, "events", "shardId-0")
		if err != nil || !ok || got.SequenceNumber != tc.want {
			t.Errorf("%s: Load = %+v, %v, %v; want %s", tc.s.Application(), got, ok, err, tc.want)
		}
	}
	if _, ok, err := def.Load(ctx, "events", "shardId-0"); ok || err != nil {
		t.Errorf("default application sees a checkpoint: ok=%v err=%v", ok, err)
	}
}

// TestItemLayoutIsTheDocumentedOne pins the documented item layout
// (other tools and the lease code read it) and checks that Save leaves
// other attributes of the item alone.
func TestItemLayoutIsTheDocumentedOne(t *testing.T) {
	t.Parallel()
	client := dynaliteClient(t)
	s := dynamodbtest.NewStore(t, client, dynamodbstore.WithApplication("app"))
	ctx := context.Background()
	key := map[string]ddbtypes.AttributeValue{
		"app_stream": &ddbtypes.AttributeValueMemberS{Value: "app#events"},
		"shard_id":   &ddbtypes.AttributeValueMemberS{Value: "shardId-000000000007"},
	}
	// A lease written by someone else first: not a checkpoint.
	if _, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table()),
		Key:                       key,
		UpdateExpression:          aws.String("SET lease_owner = :o"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":o": &ddbtypes.AttributeValueMemberS{Value: "worker-1"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Load(ctx, "events", "shardId-000000000007"); ok || err != nil {
		t.Fatalf("an item without a checkpoint loads as ok=%v err=%v, want none", ok, err)
	}
	if err := s.Save(ctx, "events", "shardId-000000000007", kinesis.Checkpoint{SequenceNumber: "12345", SubSequenceNumber: 7}); err != nil {
		t.Fatal(err)
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table()), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"lease_owner":       "worker-1",
		"checkpoint_seq":    "12345",
		"checkpoint_subseq": "7",
		"checkpoint_pos":    "1005" + "12345" + "00000000000000000007",
	}
	for attr, v := range want {
		var got string
		switch av := out.Item[attr].(type) {
		case *ddbtypes.AttributeValueMemberS:
			got = av.Value
		case *ddbtypes.AttributeValueMemberN:
			got = av.Value
		}
		if got != v {
			t.Errorf("item[%s] = %v, want %q", attr, out.Item[attr], v)
		}
	}
	if b, ok := out.Item["shard_ended"].(*ddbtypes.AttributeValueMemberBOOL); !ok || b.Value {
		t.Errorf("item[shard_ended] = %v, want false", out.Item["shard_ended"])
	}
	if u, ok := out.Item["checkpoint_updated"].(*ddbtypes.AttributeValueMemberS); !ok {
		t.Errorf("item[checkpoint_updated] missing")
	} else if _, err := time.Parse(time.RFC3339Nano, u.Value); err != nil {
		t.Errorf("checkpoint_updated %q: %v", u.Value, err)
	}
	// Ending a shard without a sequence number removes checkpoint_seq.
	if err := s.Save(ctx, "events", "shardId-000000000007", kinesis.Checkpoint{ShardEnded: true}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Load(ctx, "events", "shardId-000000000007")
	if err != nil || !ok || got != (kinesis.Checkpoint{ShardEnded: true}) {
		t.Errorf("Load after end = %+v, %v, %v", got, ok, err)
	}
}

func TestEnsureTableCreatesOnDemandAndRefusesOtherKeys(t *testing.T) {
	t.Parallel()
	client := dynaliteClient(t)
	s := dynamodbtest.NewStore(t, client)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Idempotent on an existing table.
	if err := s.EnsureTable(ctx); err != nil {
		t.Fatalf("second EnsureTable: %v", err)
	}
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.Table())})
	if err != nil {
		t.Fatal(err)
	}
	if out.Table.TableStatus != ddbtypes.TableStatusActive {
		t.Errorf("status = %s, want ACTIVE", out.Table.TableStatus)
	}
	if bm := out.Table.BillingModeSummary; bm == nil || bm.BillingMode != ddbtypes.BillingModePayPerRequest {
		t.Errorf("billing = %+v, want PAY_PER_REQUEST", bm)
	}

	// A table with another key schema is refused, not silently misused.
	other := testenv.UniqueName("rtds-other")
	if _, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(other),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(other)})
	})
	bad, err := dynamodbstore.New(client, other)
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.EnsureTable(ctx); err == nil || !strings.Contains(err.Error(), "key") {
		t.Errorf("EnsureTable on a table with another key schema = %v, want a key schema error", err)
	}
}

func TestEnsureTableFromSeveralProcessesAtOnce(t *testing.T) {
	t.Parallel()
	client := dynaliteClient(t)
	table := testenv.UniqueName("rtds-race")
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := dynamodbstore.New(client, table)
			if err == nil {
				err = s.EnsureTable(ctx)
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent EnsureTable: %v", err)
		}
	}
}

func TestEnsureTableHonoursCancellation(t *testing.T) {
	t.Parallel()
	client := dynaliteClient(t)
	s, err := dynamodbstore.New(client, testenv.UniqueName("rtds-cancel"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.EnsureTable(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("EnsureTable with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestNewValidatesItsArguments(t *testing.T) {
	t.Parallel()
	client := dynamodb.New(dynamodb.Options{Region: testenv.Region})
	tests := []struct {
		name   string
		reason string
		client dynamodbstore.API
		table  string
		opts   []dynamodbstore.Option
		ok     bool
	}{
		{"valid", "defaults", client, "checkpoints", nil, true},
		{"nil client", "nothing to call", nil, "checkpoints", nil, false},
		{"short table", "DynamoDB needs 3+ characters", client, "ab", nil, false},
		{"bad table", "spaces are not allowed in table names", client, "my table", nil, false},
		{"empty app", "the namespace must not be empty", client, "checkpoints", []dynamodbstore.Option{dynamodbstore.WithApplication("")}, false},
		{"hash in app", "'#' separates application and stream in the key", client, "checkpoints", []dynamodbstore.Option{dynamodbstore.WithApplication("a#b")}, false},
		{"app", "a normal application name", client, "checkpoints", []dynamodbstore.Option{dynamodbstore.WithApplication("billing-v2")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := dynamodbstore.New(tt.client, tt.table, tt.opts...)
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok=%v (%s)", err, tt.ok, tt.reason)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "dynamodbstore: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestEmptyStreamOrShardIsRefused(t *testing.T) {
	t.Parallel()
	s, err := dynamodbstore.New(dynamodb.New(dynamodb.Options{Region: testenv.Region}), "checkpoints")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(context.Background(), "", "shardId-0", kinesis.Checkpoint{SequenceNumber: "1"}); err == nil {
		t.Error("Save with an empty stream succeeded")
	}
	if _, _, err := s.Load(context.Background(), "s", ""); err == nil {
		t.Error("Load with an empty shard id succeeded")
	}
}

func TestMissingTableIsNotBehind(t *testing.T) {
	t.Parallel()
	s, err := dynamodbstore.New(dynaliteClient(t), testenv.UniqueName("rtds-missing"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var nf *ddbtypes.ResourceNotFoundException
	err = s.Save(ctx, "s", "shardId-0", kinesis.Checkpoint{SequenceNumber: "1"})
	if !errors.As(err, &nf) || errors.Is(err, kinesis.ErrCheckpointBehind) {
		t.Errorf("Save to a missing table = %v, want *ResourceNotFoundException and not kinesis.ErrCheckpointBehind", err)
	}
	if _, _, err := s.Load(ctx, "s", "shardId-0"); !errors.As(err, &nf) {
		t.Errorf("Load from a missing table = %v, want *ResourceNotFoundException", err)
	}
}
