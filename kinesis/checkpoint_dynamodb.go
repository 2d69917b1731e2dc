package kinesis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDBAPI is the subset of the DynamoDB SDK client that
// DynamoDBCheckpointStore calls. The signatures are the SDK's, so a
// *dynamodb.Client satisfies it.
type DynamoDBAPI interface {
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, params *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	CreateTable(ctx context.Context, params *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, params *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	Query(ctx context.Context, params *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ DynamoDBAPI = (*dynamodb.Client)(nil)

// DefaultCheckpointApplication is the application name a
// DynamoDBCheckpointStore uses without WithCheckpointApplication.
const DefaultCheckpointApplication = "default"

// Attribute names of the checkpoint table. See DynamoDBCheckpointStore for
// the item layout.
const (
	ddbAttrAppStream = "app_stream"         // S, partition key: application + "#" + stream
	ddbAttrShardID   = "shard_id"           // S, sort key: shard id
	ddbAttrSeq       = "checkpoint_seq"     // S: Checkpoint.SequenceNumber (absent if empty)
	ddbAttrSubSeq    = "checkpoint_subseq"  // N: Checkpoint.SubSequenceNumber
	ddbAttrEnded     = "shard_ended"        // BOOL: Checkpoint.ShardEnded
	ddbAttrAt        = "checkpoint_at"      // S: Checkpoint.Timestamp, RFC 3339 (absent if zero)
	ddbAttrPos       = "checkpoint_pos"     // S: sortablePosition, compared by the write condition
	ddbAttrUpdated   = "checkpoint_updated" // S: RFC 3339 time of the last write (informational)
	ddbAttrOwner     = "lease_owner"        // S: Lease.Owner (absent when free)
	ddbAttrCounter   = "lease_counter"      // N: Lease.Counter (absent before the first lease write)
	ddbAttrHandoff   = "lease_handoff"      // S: Lease.HandoffTo (absent when none)
)

// CheckpointStoreOption configures a DynamoDBCheckpointStore. Options are
// sealed: only this package creates them.
type CheckpointStoreOption interface {
	applyCheckpointStore(*ddbStoreConfig)
}

type ddbStoreConfig struct {
	app string
}

type checkpointStoreOptionFunc func(*ddbStoreConfig)

func (f checkpointStoreOptionFunc) applyCheckpointStore(c *ddbStoreConfig) { f(c) }

// WithCheckpointApplication sets the application (consumer group) name that
// namespaces the checkpoints, so several applications can consume the same
// stream independently while sharing one table. Two consumers with the same
// application name share checkpoints. It must be non-empty and must not
// contain '#'. Default: DefaultCheckpointApplication ("default").
func WithCheckpointApplication(name string) CheckpointStoreOption {
	return checkpointStoreOptionFunc(func(c *ddbStoreConfig) { c.app = name })
}

// DynamoDBCheckpointStore is a CheckpointStore in a DynamoDB table, so that a
// consumer resumes where it stopped after a restart or a crash.
//
// # Table and item layout
//
// The table has a string partition key "app_stream" and a string sort key
// "shard_id" (EnsureTable creates it with on-demand billing). One item holds
// one shard's checkpoint:
//
//	app_stream         S     application name + "#" + stream (as passed to Load and Save)
//	shard_id           S     shard id, e.g. "shardId-000000000001"
//	checkpoint_seq     S     Checkpoint.SequenceNumber (absent when empty)
//	checkpoint_subseq  N     Checkpoint.SubSequenceNumber
//	shard_ended        BOOL  Checkpoint.ShardEnded
//	checkpoint_at      S     Checkpoint.Timestamp, RFC 3339 (absent when zero)
//	checkpoint_pos     S     sortable position (see below)
//	checkpoint_updated S     time of the last write, RFC 3339 (informational)
//
// The same item holds the shard's lease when workers share the stream
// (WithLeases; see Lease):
//
//	lease_owner        S     Lease.Owner (absent when the lease is free)
//	lease_counter      N     Lease.Counter (absent before the first lease write)
//	lease_handoff      S     Lease.HandoffTo (absent when none)
//
// So one Query on app_stream lists an application's checkpoints and leases
// for a stream. Save and UpdateLease write with UpdateItem and set only
// their own attributes, so a checkpoint write never clobbers a lease and
// the other way round. UpdateLease writes on condition that lease_counter
// still has the value the worker read.
//
// # Never backwards
//
// checkpoint_pos encodes the position so that string order is position
// order: "0" and the 20-digit Unix nanoseconds for a start time (Timestamp
// without a sequence number); "1", the 3-digit length of the sequence number, the sequence number,
// and the sub-sequence number zero-padded to 20 digits; "2" for an ended
// shard. Save writes on condition
// "attribute_not_exists(checkpoint_pos) OR checkpoint_pos <= :pos", so a
// stale writer (a worker that lost its lease, an old process) can never move
// a checkpoint backwards, even racing other writers. Such a Save returns an
// error wrapping both ErrCheckpointBehind and the SDK's
// *types.ConditionalCheckFailedException.
//
// Reads are strongly consistent. A DynamoDBCheckpointStore is safe for
// concurrent use.
type DynamoDBCheckpointStore struct {
	client DynamoDBAPI
	table  string
	app    string
}

var _ LeaseStore = (*DynamoDBCheckpointStore)(nil)

// NewDynamoDBCheckpointStore returns a store of checkpoints in table. It does
// not call DynamoDB; call EnsureTable to create the table if needed.
func NewDynamoDBCheckpointStore(client DynamoDBAPI, table string, opts ...CheckpointStoreOption) (*DynamoDBCheckpointStore, error) {
	if client == nil {
		return nil, errors.New("kinesis: NewDynamoDBCheckpointStore: nil client")
	}
	if !validTableName(table) {
		return nil, fmt.Errorf("kinesis: NewDynamoDBCheckpointStore: invalid table name %q (3-255 characters of a-z, A-Z, 0-9, '_', '-', '.')", table)
	}
	cfg := ddbStoreConfig{app: DefaultCheckpointApplication}
	for _, o := range opts {
		if o != nil {
			o.applyCheckpointStore(&cfg)
		}
	}
	if cfg.app == "" || strings.Contains(cfg.app, "#") {
		return nil, fmt.Errorf("kinesis: NewDynamoDBCheckpointStore: invalid application name %q (non-empty, without '#')", cfg.app)
	}
	return &DynamoDBCheckpointStore{client: client, table: table, app: cfg.app}, nil
}

func validTableName(s string) bool {
	if len(s) < 3 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Table returns the table name.
func (s *DynamoDBCheckpointStore) Table() string { return s.table }

// Application returns the application name that namespaces the checkpoints.
func (s *DynamoDBCheckpointStore) Application() string { return s.app }

func (s *DynamoDBCheckpointStore) key(stream, shardID string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		ddbAttrAppStream: &ddbtypes.AttributeValueMemberS{Value: s.app + "#" + stream},
		ddbAttrShardID:   &ddbtypes.AttributeValueMemberS{Value: shardID},
	}
}

func checkKey(stream, shardID string) error {
	if stream == "" || shardID == "" {
		return errors.New("kinesis: empty stream or shard id")
	}
	return nil
}

// Load returns the checkpoint of a shard with a strongly consistent read;
// ok is false when the shard has none (no item, or an item without a
// checkpoint, such as a lease alone).
func (s *DynamoDBCheckpointStore) Load(ctx context.Context, stream, shardID string) (Checkpoint, bool, error) {
	if err := checkKey(stream, shardID); err != nil {
		return Checkpoint{}, false, err
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            aws.String(s.table),
		Key:                  s.key(stream, shardID),
		ConsistentRead:       aws.Bool(true),
		ProjectionExpression: aws.String("#seq, #sub, #ended, #pos, #at"),
		ExpressionAttributeNames: map[string]string{
			"#seq": ddbAttrSeq, "#sub": ddbAttrSubSeq, "#ended": ddbAttrEnded, "#pos": ddbAttrPos, "#at": ddbAttrAt,
		},
	})
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("kinesis: load checkpoint of stream %s shard %s from table %s: %w", stream, shardID, s.table, err)
	}
	if _, ok := out.Item[ddbAttrPos]; !ok {
		return Checkpoint{}, false, nil
	}
	cp, err := decodeCheckpointItem(out.Item)
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("kinesis: load checkpoint of stream %s shard %s from table %s: %w", stream, shardID, s.table, err)
	}
	return cp, true, nil
}

func decodeCheckpointItem(item map[string]ddbtypes.AttributeValue) (Checkpoint, error) {
	var cp Checkpoint
	if v, ok := item[ddbAttrSeq]; ok {
		sv, ok := v.(*ddbtypes.AttributeValueMemberS)
		if !ok {
			return cp, fmt.Errorf("malformed item: %s is %T, want S", ddbAttrSeq, v)
		}
		cp.SequenceNumber = sv.Value
	}
	if v, ok := item[ddbAttrSubSeq]; ok {
		nv, ok := v.(*ddbtypes.AttributeValueMemberN)
		if !ok {
			return cp, fmt.Errorf("malformed item: %s is %T, want N", ddbAttrSubSeq, v)
		}
		n, err := strconv.ParseUint(nv.Value, 10, 64)
		if err != nil {
			return cp, fmt.Errorf("malformed item: %s: %w", ddbAttrSubSeq, err)
		}
		cp.SubSequenceNumber = n
	}
	if v, ok := item[ddbAttrEnded]; ok {
		bv, ok := v.(*ddbtypes.AttributeValueMemberBOOL)
		if !ok {
			return cp, fmt.Errorf("malformed item: %s is %T, want BOOL", ddbAttrEnded, v)
		}
		cp.ShardEnded = bv.Value
	}
	if v, ok := item[ddbAttrAt]; ok {
		sv, ok := v.(*ddbtypes.AttributeValueMemberS)
		if !ok {
			return cp, fmt.Errorf("malformed item: %s is %T, want S", ddbAttrAt, v)
		}
		t, err := time.Parse(time.RFC3339Nano, sv.Value)
		if err != nil {
			return cp, fmt.Errorf("malformed item: %s: %w", ddbAttrAt, err)
		}
		cp.Timestamp = t
	}
	return cp, nil
}

// Save stores cp for a shard with a conditional write that succeeds only if
// the stored checkpoint is absent or not ahead of cp. Saving the stored
// position again succeeds. If the stored checkpoint is ahead, Save returns
// an error wrapping ErrCheckpointBehind and the SDK's
// *types.ConditionalCheckFailedException, naming both positions (the stored
// one read back on a best-effort basis), and the stored checkpoint is kept.
// A cp without a valid sequence number (only an ended shard may have none)
// is refused without calling DynamoDB.
func (s *DynamoDBCheckpointStore) Save(ctx context.Context, stream, shardID string, cp Checkpoint) error {
	if err := checkKey(stream, shardID); err != nil {
		return err
	}
	if err := validateCheckpoint(cp); err != nil {
		return fmt.Errorf("kinesis: save checkpoint of stream %s shard %s: %w", stream, shardID, err)
	}
	names := map[string]string{
		"#seq": ddbAttrSeq, "#sub": ddbAttrSubSeq, "#ended": ddbAttrEnded,
		"#pos": ddbAttrPos, "#upd": ddbAttrUpdated, "#at": ddbAttrAt,
	}
	values := map[string]ddbtypes.AttributeValue{
		":sub":   &ddbtypes.AttributeValueMemberN{Value: strconv.FormatUint(cp.SubSequenceNumber, 10)},
		":ended": &ddbtypes.AttributeValueMemberBOOL{Value: cp.ShardEnded},
		":pos":   &ddbtypes.AttributeValueMemberS{Value: sortablePosition(cp)},
		":upd":   &ddbtypes.AttributeValueMemberS{Value: time.Now().UTC().Format(time.RFC3339Nano)},
	}
	update := "SET #sub = :sub, #ended = :ended, #pos = :pos, #upd = :upd"
	var remove []string
	if cp.SequenceNumber == "" {
		remove = append(remove, "#seq")
	} else {
		update += ", #seq = :seq"
		values[":seq"] = &ddbtypes.AttributeValueMemberS{Value: cp.SequenceNumber}
	}
	if cp.Timestamp.IsZero() {
		remove = append(remove, "#at")
	} else {
		update += ", #at = :at"
		values[":at"] = &ddbtypes.AttributeValueMemberS{Value: cp.Timestamp.UTC().Format(time.RFC3339Nano)}
	}
	if len(remove) > 0 {
		update += " REMOVE " + strings.Join(remove, ", ")
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       s.key(stream, shardID),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("attribute_not_exists(#pos) OR #pos <= :pos"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err == nil {
		return nil
	}
	var ccf *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		stored := "unknown"
		// Best effort, for the message only: dynalite (and older
		// setups) do not return the old item with the failure.
		if old, ok, lerr := s.Load(ctx, stream, shardID); lerr == nil && ok {
			stored = formatPosition(old)
		}
		return fmt.Errorf("%w: stream %s shard %s: saving %s, stored %s: %w",
			ErrCheckpointBehind, stream, shardID, formatPosition(cp), stored, err)
	}
	return fmt.Errorf("kinesis: save checkpoint of stream %s shard %s to table %s: %w", stream, shardID, s.table, err)
}

// EnsureTable creates the checkpoint table with on-demand billing if it does
// not exist, and waits until it is ACTIVE (bounded by ctx). An existing table
// must have the store's key schema (see DynamoDBCheckpointStore); otherwise
// EnsureTable returns an error. It is safe to call from several processes at
// once.
func (s *DynamoDBCheckpointStore) EnsureTable(ctx context.Context) error {
	desc, err := s.describe(ctx)
	if err != nil {
		return err
	}
	if desc == nil {
		_, err := s.client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:   aws.String(s.table),
			BillingMode: ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: []ddbtypes.AttributeDefinition{
				{AttributeName: aws.String(ddbAttrAppStream), AttributeType: ddbtypes.ScalarAttributeTypeS},
				{AttributeName: aws.String(ddbAttrShardID), AttributeType: ddbtypes.ScalarAttributeTypeS},
			},
			KeySchema: []ddbtypes.KeySchemaElement{
				{AttributeName: aws.String(ddbAttrAppStream), KeyType: ddbtypes.KeyTypeHash},
				{AttributeName: aws.String(ddbAttrShardID), KeyType: ddbtypes.KeyTypeRange},
			},
		})
		var inUse *ddbtypes.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) { // in use: created concurrently
			return fmt.Errorf("kinesis: create checkpoint table %s: %w", s.table, err)
		}
	} else if err := checkKeySchema(desc); err != nil {
		return fmt.Errorf("kinesis: checkpoint table %s: %w", s.table, err)
	}
	return s.waitActive(ctx, desc)
}

// describe returns the table's description, or nil if it does not exist.
func (s *DynamoDBCheckpointStore) describe(ctx context.Context) (*ddbtypes.TableDescription, error) {
	out, err := s.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	var nf *ddbtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("kinesis: describe checkpoint table %s: %w", s.table, err)
	case out.Table == nil:
		return nil, fmt.Errorf("kinesis: describe checkpoint table %s: no table in the answer", s.table)
	}
	return out.Table, nil
}

func checkKeySchema(desc *ddbtypes.TableDescription) error {
	want := map[string]ddbtypes.KeyType{ddbAttrAppStream: ddbtypes.KeyTypeHash, ddbAttrShardID: ddbtypes.KeyTypeRange}
	if len(desc.KeySchema) != len(want) {
		return fmt.Errorf("key schema has %d attributes, want %s (HASH) and %s (RANGE)", len(desc.KeySchema), ddbAttrAppStream, ddbAttrShardID)
	}
	for _, k := range desc.KeySchema {
		if want[aws.ToString(k.AttributeName)] != k.KeyType {
			return fmt.Errorf("unexpected key %s (%s), want %s (HASH) and %s (RANGE)", aws.ToString(k.AttributeName), k.KeyType, ddbAttrAppStream, ddbAttrShardID)
		}
	}
	return nil
}

// waitActive polls DescribeTable (50 ms, doubling up to 2 s) until the table
// is ACTIVE. desc is the last description known, or nil.
func (s *DynamoDBCheckpointStore) waitActive(ctx context.Context, desc *ddbtypes.TableDescription) error {
	delay := 50 * time.Millisecond
	for {
		if desc != nil && desc.TableStatus == ddbtypes.TableStatusActive {
			return nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("kinesis: waiting for checkpoint table %s to become ACTIVE: %w", s.table, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 2*time.Second)
		var err error
		if desc, err = s.describe(ctx); err != nil {
			return err
		}
	}
}
