package dynamodbstore

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

	"github.com/rtdskit/rtds/kinesis"
)

// API is the subset of the DynamoDB SDK client that a Store calls. The
// signatures are the SDK's, so a *dynamodb.Client satisfies it.
type API interface {
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, params *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	CreateTable(ctx context.Context, params *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, params *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	Query(ctx context.Context, params *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// DefaultApplication is the application name a Store uses without
// WithApplication.
const DefaultApplication = "default"

// Attribute names of the table. See the package documentation for the item
// layout.
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

// Option configures a Store. Options are sealed: only this package creates
// them.
type Option interface {
	apply(*config)
}

type config struct {
	app string
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithApplication sets the application (consumer group) name that
// namespaces the checkpoints and leases, so several applications can
// consume the same stream independently while sharing one table. Two
// consumers with the same application name share checkpoints. It must be
// non-empty and must not contain '#'. Default: DefaultApplication
// ("default").
func WithApplication(name string) Option {
	return optionFunc(func(c *config) { c.app = name })
}

// Store is a kinesis.CheckpointStore and kinesis.LeaseStore in a DynamoDB
// table, so that a consumer resumes where it stopped after a restart or a
// crash, and workers in several processes can share a stream
// (kinesis.WithLeases). The package documentation describes the table.
//
// Save never moves a checkpoint backwards, even racing other writers: a
// stale writer's Save returns an error wrapping both
// kinesis.ErrCheckpointBehind and the SDK's
// *types.ConditionalCheckFailedException. UpdateLease is a compare and swap
// on the lease counter.
//
// Reads are strongly consistent. A Store is safe for concurrent use.
type Store struct {
	client API
	table  string
	app    string
}

var _ kinesis.LeaseStore = (*Store)(nil)

// New returns a store of checkpoints and leases in table. It does not call
// DynamoDB; call EnsureTable to create the table if needed.
func New(client API, table string, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("dynamodbstore: New: nil client")
	}
	if !validTableName(table) {
		return nil, fmt.Errorf("dynamodbstore: New: invalid table name %q (3-255 characters of a-z, A-Z, 0-9, '_', '-', '.')", table)
	}
	cfg := config{app: DefaultApplication}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.app == "" || strings.Contains(cfg.app, "#") {
		return nil, fmt.Errorf("dynamodbstore: New: invalid application name %q (non-empty, without '#')", cfg.app)
	}
	return &Store{client: client, table: table, app: cfg.app}, nil
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
func (s *Store) Table() string { return s.table }

// Application returns the application name that namespaces the checkpoints.
func (s *Store) Application() string { return s.app }

func (s *Store) key(stream, shardID string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		ddbAttrAppStream: &ddbtypes.AttributeValueMemberS{Value: s.app + "#" + stream},
		ddbAttrShardID:   &ddbtypes.AttributeValueMemberS{Value: shardID},
	}
}

func checkKey(stream, shardID string) error {
	if stream == "" || shardID == "" {
		return errors.New("dynamodbstore: empty stream or shard id")
	}
	return nil
}

// Load returns the checkpoint of a shard with a strongly consistent read;
// ok is false when the shard has none (no item, or an item without a
// checkpoint, such as a lease alone).
func (s *Store) Load(ctx context.Context, stream, shardID string) (kinesis.Checkpoint, bool, error) {
	if err := checkKey(stream, shardID); err != nil {
		return kinesis.Checkpoint{}, false, err
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
		return kinesis.Checkpoint{}, false, fmt.Errorf("dynamodbstore: load checkpoint of stream %s shard %s from table %s: %w", stream, shardID, s.table, err)
	}
	if _, ok := out.Item[ddbAttrPos]; !ok {
		return kinesis.Checkpoint{}, false, nil
	}
	cp, err := decodeCheckpointItem(out.Item)
	if err != nil {
		return kinesis.Checkpoint{}, false, fmt.Errorf("dynamodbstore: load checkpoint of stream %s shard %s from table %s: %w", stream, shardID, s.table, err)
	}
	return cp, true, nil
}

func decodeCheckpointItem(item map[string]ddbtypes.AttributeValue) (kinesis.Checkpoint, error) {
	var cp kinesis.Checkpoint
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
// an error wrapping kinesis.ErrCheckpointBehind and the SDK's
// *types.ConditionalCheckFailedException, naming both positions (the stored
// one read back on a best-effort basis), and the stored checkpoint is kept.
// A cp without a valid sequence number (only an ended shard may have none)
// is refused without calling DynamoDB.
func (s *Store) Save(ctx context.Context, stream, shardID string, cp kinesis.Checkpoint) error {
	if err := checkKey(stream, shardID); err != nil {
		return err
	}
	if err := cp.Validate(); err != nil {
		return fmt.Errorf("dynamodbstore: save checkpoint of stream %s shard %s: %w", stream, shardID, err)
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
			stored = old.String()
		}
		return fmt.Errorf("%w: stream %s shard %s: saving %s, stored %s: %w",
			kinesis.ErrCheckpointBehind, stream, shardID, cp.String(), stored, err)
	}
	return fmt.Errorf("dynamodbstore: save checkpoint of stream %s shard %s to table %s: %w", stream, shardID, s.table, err)
}

// EnsureTable creates the checkpoint table with on-demand billing if it does
// not exist, and waits until it is ACTIVE (bounded by ctx). An existing table
// must have the store's key schema (see the package documentation); otherwise
// EnsureTable returns an error. It is safe to call from several processes at
// once.
func (s *Store) EnsureTable(ctx context.Context) error {
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
			return fmt.Errorf("dynamodbstore: create checkpoint table %s: %w", s.table, err)
		}
	} else if err := checkKeySchema(desc); err != nil {
		return fmt.Errorf("dynamodbstore: checkpoint table %s: %w", s.table, err)
	}
	return s.waitActive(ctx, desc)
}

// describe returns the table's description, or nil if it does not exist.
func (s *Store) describe(ctx context.Context) (*ddbtypes.TableDescription, error) {
	out, err := s.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	var nf *ddbtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("dynamodbstore: describe checkpoint table %s: %w", s.table, err)
	case out.Table == nil:
		return nil, fmt.Errorf("dynamodbstore: describe checkpoint table %s: no table in the answer", s.table)
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
func (s *Store) waitActive(ctx context.Context, desc *ddbtypes.TableDescription) error {
	delay := 50 * time.Millisecond
	for {
		if desc != nil && desc.TableStatus == ddbtypes.TableStatusActive {
			return nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("dynamodbstore: waiting for checkpoint table %s to become ACTIVE: %w", s.table, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 2*time.Second)
		var err error
		if desc, err = s.describe(ctx); err != nil {
			return err
		}
	}
}

// itemReader reads attributes of an item, keeping the first error: an
// attribute of another type than the one asked for.
type itemReader struct {
	item map[string]ddbtypes.AttributeValue
	err  error
}

// str returns the S attribute name, "" when absent.
func (r *itemReader) str(name string) string {
	v, ok := r.item[name]
	if !ok {
		return ""
	}
	sv, ok := v.(*ddbtypes.AttributeValueMemberS)
	if !ok {
		r.fail(name, v, "S")
		return ""
	}
	return sv.Value
}

// num returns the N attribute name as its decimal string, "" when absent.
func (r *itemReader) num(name string) string {
	v, ok := r.item[name]
	if !ok {
		return ""
	}
	nv, ok := v.(*ddbtypes.AttributeValueMemberN)
	if !ok {
		r.fail(name, v, "N")
		return ""
	}
	return nv.Value
}

func (r *itemReader) fail(name string, v ddbtypes.AttributeValue, want string) {
	if r.err == nil {
		r.err = fmt.Errorf("malformed item: %s is %T, want %s", name, v, want)
	}
}
