package dynamodbstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rtdskit/rtds/kinesis"
)

// KCLAPI is the subset of the DynamoDB SDK client that a KCLStore calls.
type KCLAPI interface {
	API
	Scan(ctx context.Context, params *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ KCLAPI = (*dynamodb.Client)(nil)

// Attributes of the Java KCL's lease table (DynamoDBLeaseSerializer, KCL
// 2.x and 3.x), and the few rtds adds. See docs/KCL.md.
const (
	kclLeaseKey        = "leaseKey"                           // S, hash key: the shard id
	kclOwner           = "leaseOwner"                         // S, absent when free
	kclCounter         = "leaseCounter"                       // N
	kclOwnerSwitches   = "ownerSwitchesSinceCheckpoint"       // N
	kclCheckpoint      = "checkpoint"                         // S: sequence number or sentinel
	kclSubSeq          = "checkpointSubSequenceNumber"        // N
	kclPending         = "pendingCheckpoint"                  // S, removed when unset
	kclPendingSubSeq   = "pendingCheckpointSubSequenceNumber" // N, removed when unset
	kclPendingState    = "pendingCheckpointState"             // B, removed when unset
	kclParent          = "parentShardId"                      // SS (singular name)
	kclChildren        = "childShardIds"                      // SS
	kclStartHash       = "startingHashKey"                    // S, decimal
	kclEndHash         = "endingHashKey"                      // S, decimal
	kclCheckpointOwner = "checkpointOwner"                    // S (KCL 3.x graceful handoff)

	// rtds's own, ignored by the KCL: what its sentinels cannot hold.
	rtdsStartedAt = "rtdsStartedAt"         // S, RFC 3339: Checkpoint.Timestamp of a start time
	rtdsLastSeq   = "rtdsEndedAfter"        // S: the last record of an ended shard
	rtdsLastSub   = "rtdsEndedAfterSub"     // N
	rtdsVersion   = "rtdsCheckpointVersion" // N: +1 by every rtds checkpoint write (compare and swap)
)

// The KCL's checkpoint sentinels (SentinelCheckpoint).
const (
	SentinelTrimHorizon = "TRIM_HORIZON"
	SentinelLatest      = "LATEST"
	SentinelAtTimestamp = "AT_TIMESTAMP"
	SentinelShardEnd    = "SHARD_END"
)

// KCLOption configures a KCLStore.
type KCLOption interface {
	applyKCL(*kclConfig)
}

type kclConfig struct {
	initial string
}

type kclOptionFunc func(*kclConfig)

func (f kclOptionFunc) applyKCL(c *kclConfig) { f(c) }

// WithInitialPosition sets the KCL sentinel a KCLStore writes as the
// checkpoint of a shard that has none yet: when a lease is first written
// for it, and for the position a reader started from before its first
// record (the consumer's start time). Use the initial position of the
// consumer (kinesis.WithStartPosition) and of the KCL application
// (initialPositionInStream): kinesis.StartTrimHorizon (the default),
// kinesis.StartLatest, or kinesis.StartAtTimestamp (the KCL takes the
// time from its own configuration).
func WithInitialPosition(p kinesis.StartPosition) KCLOption {
	s := p.String()
	if strings.HasPrefix(s, SentinelAtTimestamp) {
		s = SentinelAtTimestamp
	}
	return kclOptionFunc(func(c *kclConfig) { c.initial = s })
}

// KCLStore is a kinesis.CheckpointStore and kinesis.LeaseStore in the
// lease table layout of the Java Kinesis Client Library (KCL 2.x and
// 3.x), so that a KCL application and an rtds consumer resume each other's
// checkpoints. docs/KCL.md maps every attribute and says what interoperates.
//
// A KCL lease table belongs to one application and one stream: the lease
// key is the shard id. Checkpoints and leases of other streams given to
// the store are kept under the key "rtds|" + stream + "|" + shard id,
// which the KCL does not read.
//
// Save reads the item and writes on condition that the checkpoint is
// still what it read (compare and swap), so it never moves a checkpoint
// backwards, whoever wrote it. UpdateLease increments leaseCounter on
// condition of its current value, as the KCL renews. Both update named
// attributes only (UpdateItem), so attributes the KCL adds survive.
type KCLStore struct {
	client  KCLAPI
	table   string
	stream  string
	initial string
}

var _ kinesis.LeaseStore = (*KCLStore)(nil)

// NewKCL returns a store of stream's checkpoints and leases in the KCL
// lease table table (the KCL names it after the application). It does not
// call DynamoDB; EnsureTable creates the table as the KCL does.
func NewKCL(client KCLAPI, table, stream string, opts ...KCLOption) (*KCLStore, error) {
	if client == nil {
		return nil, errors.New("dynamodbstore: NewKCL: nil client")
	}
	if !validTableName(table) {
		return nil, fmt.Errorf("dynamodbstore: NewKCL: invalid table name %q (3-255 characters of a-z, A-Z, 0-9, '_', '-', '.')", table)
	}
	if stream == "" || strings.Contains(stream, "|") {
		return nil, fmt.Errorf("dynamodbstore: NewKCL: invalid stream name %q", stream)
	}
	cfg := kclConfig{initial: SentinelTrimHorizon}
	for _, o := range opts {
		if o != nil {
			o.applyKCL(&cfg)
		}
	}
	switch cfg.initial {
	case SentinelTrimHorizon, SentinelLatest, SentinelAtTimestamp:
	default:
		return nil, fmt.Errorf("dynamodbstore: NewKCL: initial position %q is not one of TRIM_HORIZON, LATEST, AT_TIMESTAMP", cfg.initial)
	}
	return &KCLStore{client: client, table: table, stream: stream, initial: cfg.initial}, nil
}

// Table returns the table name.
func (s *KCLStore) Table() string { return s.table }

// leaseKey is the item key of a shard of stream.
func (s *KCLStore) leaseKey(stream, shardID string) string {
	if stream == s.stream {
		return shardID
	}
	return "rtds|" + stream + "|" + shardID
}

// shardOf returns the shard id of an item of stream, or false when the
// item is another stream's.
func (s *KCLStore) shardOf(stream, key string) (string, bool) {
	if stream == s.stream {
		return key, !strings.Contains(key, "|")
	}
	return strings.CutPrefix(key, "rtds|"+stream+"|")
}

func (s *KCLStore) key(stream, shardID string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{kclLeaseKey: &ddbtypes.AttributeValueMemberS{Value: s.leaseKey(stream, shardID)}}
}

// kclItem is what a KCLStore reads of an item.
type kclItem struct {
	exists   bool
	cp       kinesis.Checkpoint
	hasCP    bool   // cp is a position (not a sentinel the consumer starts from)
	raw      string // the checkpoint attribute; "" when absent
	rawSub   string // checkpointSubSequenceNumber; "" when absent
	version  string // rtdsCheckpointVersion; "" when absent
	lease    kinesis.Lease
	switches int64
}

// decodeKCLItem reads an item as the KCL wrote it, or as rtds did.
func decodeKCLItem(item map[string]ddbtypes.AttributeValue) (kclItem, error) {
	it := kclItem{exists: len(item) > 0}
	rd := itemReader{item: item}
	it.raw, it.rawSub, it.version = rd.str(kclCheckpoint), rd.num(kclSubSeq), rd.num(rtdsVersion)
	counter, switches := rd.num(kclCounter), rd.num(kclOwnerSwitches)
	startedAt, last, lastSub := rd.str(rtdsStartedAt), rd.str(rtdsLastSeq), rd.num(rtdsLastSub)
	owner, cpOwner := rd.str(kclOwner), rd.str(kclCheckpointOwner)
	if rd.err != nil {
		return it, rd.err
	}
	// KCL 3.x graceful handoff: leaseOwner is the next owner while
	// checkpointOwner, the current one, finishes.
	it.lease.Owner = owner
	if cpOwner != "" && cpOwner != owner {
		it.lease.Owner, it.lease.HandoffTo = cpOwner, owner
	}
	var err error
	if counter != "" {
		if it.lease.Counter, err = strconv.ParseInt(counter, 10, 64); err != nil {
			return it, fmt.Errorf("malformed item: %s: %w", kclCounter, err)
		}
	}
	if switches != "" {
		if it.switches, err = strconv.ParseInt(switches, 10, 64); err != nil {
			return it, fmt.Errorf("malformed item: %s: %w", kclOwnerSwitches, err)
		}
	}
	var sub uint64
	if it.rawSub != "" {
		if sub, err = strconv.ParseUint(it.rawSub, 10, 64); err != nil {
			return it, fmt.Errorf("malformed item: %s: %w", kclSubSeq, err)
		}
	}
	var at time.Time
	if startedAt != "" {
		if at, err = time.Parse(time.RFC3339Nano, startedAt); err != nil {
			return it, fmt.Errorf("malformed item: %s: %w", rtdsStartedAt, err)
		}
	}
	switch it.raw {
	case "":
	case SentinelShardEnd:
		it.cp, it.hasCP = kinesis.Checkpoint{ShardEnded: true}, true
		it.lease.ShardEnded = true
		switch {
		case last != "":
			it.cp.SequenceNumber = last
			if lastSub != "" {
				if it.cp.SubSequenceNumber, err = strconv.ParseUint(lastSub, 10, 64); err != nil {
					return it, fmt.Errorf("malformed item: %s: %w", rtdsLastSub, err)
				}
			}
		case !at.IsZero():
			it.cp.Timestamp = at
		}
	case SentinelTrimHorizon, SentinelLatest, SentinelAtTimestamp:
		// No position yet: the reader starts at its configured position,
		// unless rtds stored the time its reader started from.
		if !at.IsZero() {
			it.cp, it.hasCP = kinesis.Checkpoint{Timestamp: at}, true
		}
	default:
		it.cp, it.hasCP = kinesis.Checkpoint{SequenceNumber: it.raw, SubSequenceNumber: sub}, true
		if err := it.cp.Validate(); err != nil {
			return it, fmt.Errorf("malformed item: %s %q is neither a sequence number nor a KCL sentinel", kclCheckpoint, it.raw)
		}
	}
	return it, nil
}

func (s *KCLStore) get(ctx context.Context, stream, shardID string) (kclItem, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            s.key(stream, shardID),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return kclItem{}, err
	}
	return decodeKCLItem(out.Item)
}

// Load returns the checkpoint of a shard: a sequence number and
// sub-sequence number, or the shard's end. A KCL sentinel TRIM_HORIZON,
// LATEST or AT_TIMESTAMP is no position (ok is false: the consumer starts
// at its configured position; child shards at TRIM_HORIZON), unless rtds
// wrote it with the time its reader started from.
func (s *KCLStore) Load(ctx context.Context, stream, shardID string) (kinesis.Checkpoint, bool, error) {
	if err := checkKey(stream, shardID); err != nil {
		return kinesis.Checkpoint{}, false, err
	}
	it, err := s.get(ctx, stream, shardID)
	if err != nil {
		return kinesis.Checkpoint{}, false, fmt.Errorf("dynamodbstore: load checkpoint of stream %s shard %s from table %s: %w", stream, shardID, s.table, err)
	}
	if !it.hasCP {
		return kinesis.Checkpoint{}, false, nil
	}
	return it.cp, true, nil
}

// Save stores cp as the KCL would: checkpoint (a sequence number,
// SHARD_END, or for a start time the initial position's sentinel) and
// checkpointSubSequenceNumber, resetting ownerSwitchesSinceCheckpoint and
// removing a pending checkpoint. It reads the item first and writes on
// condition that its checkpoint did not change meanwhile, retrying, so
// a checkpoint behind the stored one (whoever wrote it) is refused with an
// error wrapping kinesis.ErrCheckpointBehind.
func (s *KCLStore) Save(ctx context.Context, stream, shardID string, cp kinesis.Checkpoint) error {
	if err := checkKey(stream, shardID); err != nil {
		return err
	}
	if err := cp.Validate(); err != nil {
		return fmt.Errorf("dynamodbstore: save checkpoint of stream %s shard %s: %w", stream, shardID, err)
	}
	for {
		it, err := s.get(ctx, stream, shardID)
		if err != nil {
			return fmt.Errorf("dynamodbstore: save checkpoint of stream %s shard %s to table %s: %w", stream, shardID, s.table, err)
		}
		if it.hasCP && cp.Compare(it.cp) < 0 {
			return fmt.Errorf("%w: stream %s shard %s: saving %s, stored %s", kinesis.ErrCheckpointBehind, stream, shardID, cp.String(), it.cp.String())
		}
		err = s.write(ctx, stream, shardID, it, cp)
		var ccf *ddbtypes.ConditionalCheckFailedException
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ccf):
			continue // written meanwhile: compare again
		default:
			return fmt.Errorf("dynamodbstore: save checkpoint of stream %s shard %s to table %s: %w", stream, shardID, s.table, err)
		}
	}
}

// write writes cp on condition that the item's checkpoint is still old's.
func (s *KCLStore) write(ctx context.Context, stream, shardID string, old kclItem, cp kinesis.Checkpoint) error {
	names := map[string]string{
		"#cp": kclCheckpoint, "#sub": kclSubSeq, "#sw": kclOwnerSwitches, "#cnt": kclCounter, "#ver": rtdsVersion,
		"#pcp": kclPending, "#psub": kclPendingSubSeq, "#pst": kclPendingState,
		"#at": rtdsStartedAt, "#last": rtdsLastSeq, "#lsub": rtdsLastSub,
	}
	version := int64(1)
	if old.version != "" {
		v, err := strconv.ParseInt(old.version, 10, 64)
		if err != nil {
			return fmt.Errorf("malformed item: %s: %w", rtdsVersion, err)
		}
		version = v + 1
	}
	raw, sub := cp.SequenceNumber, cp.SubSequenceNumber
	switch {
	case cp.ShardEnded:
		raw, sub = SentinelShardEnd, 0
	case cp.SequenceNumber == "":
		raw = s.initial
	}
	values := map[string]ddbtypes.AttributeValue{
		":cp":   &ddbtypes.AttributeValueMemberS{Value: raw},
		":sub":  &ddbtypes.AttributeValueMemberN{Value: strconv.FormatUint(sub, 10)},
		":zero": &ddbtypes.AttributeValueMemberN{Value: "0"},
		":ver":  &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)},
	}
	set := []string{"#cp = :cp", "#sub = :sub", "#sw = :zero", "#cnt = if_not_exists(#cnt, :zero)", "#ver = :ver"}
	remove := []string{"#pcp", "#psub", "#pst"}
	if !cp.Timestamp.IsZero() {
		set = append(set, "#at = :at")
		values[":at"] = &ddbtypes.AttributeValueMemberS{Value: cp.Timestamp.UTC().Format(time.RFC3339Nano)}
	} else {
		remove = append(remove, "#at")
	}
	if cp.ShardEnded && cp.SequenceNumber != "" {
		set = append(set, "#last = :last", "#lsub = :lsub")
		values[":last"] = &ddbtypes.AttributeValueMemberS{Value: cp.SequenceNumber}
		values[":lsub"] = &ddbtypes.AttributeValueMemberN{Value: strconv.FormatUint(cp.SubSequenceNumber, 10)}
	} else {
		remove = append(remove, "#last", "#lsub")
	}
	var cond []string
	if old.raw == "" {
		cond = append(cond, "attribute_not_exists(#cp)")
	} else {
		cond = append(cond, "#cp = :oldcp")
		values[":oldcp"] = &ddbtypes.AttributeValueMemberS{Value: old.raw}
	}
	if old.rawSub == "" {
		cond = append(cond, "attribute_not_exists(#sub)")
	} else {
		cond = append(cond, "#sub = :oldsub")
		values[":oldsub"] = &ddbtypes.AttributeValueMemberN{Value: old.rawSub}
	}
	if old.version == "" {
		cond = append(cond, "attribute_not_exists(#ver)")
	} else {
		cond = append(cond, "#ver = :oldver")
		values[":oldver"] = &ddbtypes.AttributeValueMemberN{Value: old.version}
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       s.key(stream, shardID),
		UpdateExpression:          aws.String("SET " + strings.Join(set, ", ") + " REMOVE " + strings.Join(remove, ", ")),
		ConditionExpression:       aws.String(strings.Join(cond, " AND ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	return err
}

// ListLeases returns the lease of every shard of stream that has an item
// in the table, sorted by shard id, with a strongly consistent Scan. A
// KCL 3.x graceful handoff (checkpointOwner set, leaseOwner the next
// owner) is a lease of checkpointOwner with HandoffTo leaseOwner.
func (s *KCLStore) ListLeases(ctx context.Context, stream string) ([]kinesis.Lease, error) {
	if stream == "" {
		return nil, errors.New("dynamodbstore: list leases: empty stream")
	}
	in := &dynamodb.ScanInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true)}
	var out []kinesis.Lease
	for {
		page, err := s.client.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamodbstore: list leases of stream %s in table %s: %w", stream, s.table, err)
		}
		for _, item := range page.Items {
			kv, ok := item[kclLeaseKey].(*ddbtypes.AttributeValueMemberS)
			if !ok {
				continue
			}
			shardID, ok := s.shardOf(stream, kv.Value)
			if !ok {
				continue
			}
			it, err := decodeKCLItem(item)
			if err != nil {
				return nil, fmt.Errorf("dynamodbstore: list leases of stream %s in table %s: lease %s: %w", stream, s.table, kv.Value, err)
			}
			it.lease.ShardID = shardID
			out = append(out, it.lease)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	slices.SortFunc(out, func(a, b kinesis.Lease) int { return strings.Compare(a.ShardID, b.ShardID) })
	return out, nil
}

// UpdateLease replaces a shard's lease with next on condition that
// leaseCounter is still old.Counter (absent or 0 when old.Counter is 0),
// as the KCL renews and takes leases. Taking a lease from another owner
// adds 1 to ownerSwitchesSinceCheckpoint (taking a free one does not, as
// in the KCL's getDynamoTakeLeaseUpdate). A lease being handed over
// (next.HandoffTo) is written as KCL 3.x does: leaseOwner the next owner,
// checkpointOwner the current one. An item created by UpdateLease gets
// the initial position's sentinel as its checkpoint (WithInitialPosition),
// which Load reports as no checkpoint. The checkpoint is left alone.
func (s *KCLStore) UpdateLease(ctx context.Context, stream string, old, next kinesis.Lease) error {
	if err := kinesis.ValidateLeaseUpdate(stream, old, next); err != nil {
		return err
	}
	names := map[string]string{"#cnt": kclCounter, "#own": kclOwner, "#cpo": kclCheckpointOwner, "#sw": kclOwnerSwitches, "#cp": kclCheckpoint, "#sub": kclSubSeq}
	values := map[string]ddbtypes.AttributeValue{
		":next": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(next.Counter, 10)},
		":zero": &ddbtypes.AttributeValueMemberN{Value: "0"},
		":init": &ddbtypes.AttributeValueMemberS{Value: s.initial},
	}
	set := []string{"#cnt = :next", "#cp = if_not_exists(#cp, :init)", "#sub = if_not_exists(#sub, :zero)"}
	var remove []string
	owner, cpOwner := next.Owner, ""
	if next.HandoffTo != "" {
		owner, cpOwner = next.HandoffTo, next.Owner
	}
	if owner != "" {
		set = append(set, "#own = :own")
		values[":own"] = &ddbtypes.AttributeValueMemberS{Value: owner}
	} else {
		remove = append(remove, "#own")
	}
	if cpOwner != "" {
		set = append(set, "#cpo = :cpo")
		values[":cpo"] = &ddbtypes.AttributeValueMemberS{Value: cpOwner}
	} else {
		remove = append(remove, "#cpo")
	}
	oldOwner := old.Owner
	if old.HandoffTo != "" {
		oldOwner = old.HandoffTo
	}
	if oldOwner != "" && owner != "" && owner != oldOwner {
		set = append(set, "#sw = if_not_exists(#sw, :zero) + :one")
		values[":one"] = &ddbtypes.AttributeValueMemberN{Value: "1"}
	} else {
		set = append(set, "#sw = if_not_exists(#sw, :zero)")
	}
	cond := "attribute_not_exists(#cnt) OR #cnt = :zero"
	if old.Counter != 0 {
		cond = "#cnt = :old"
		values[":old"] = &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(old.Counter, 10)}
	}
	update := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		update += " REMOVE " + strings.Join(remove, ", ")
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       s.key(stream, old.ShardID),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	return leaseUpdateError(err, s.table, stream, old)
}

// EnsureTable creates the lease table as the KCL does (hash key leaseKey,
// on-demand billing) if it does not exist, and waits until it is ACTIVE.
// An existing table must have the hash key leaseKey alone.
func (s *KCLStore) EnsureTable(ctx context.Context) error {
	t := &Store{client: s.client, table: s.table}
	desc, err := t.describe(ctx)
	if err != nil {
		return err
	}
	if desc == nil {
		_, err := s.client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(s.table),
			BillingMode:          ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(kclLeaseKey), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(kclLeaseKey), KeyType: ddbtypes.KeyTypeHash}},
		})
		var inUse *ddbtypes.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("dynamodbstore: create lease table %s: %w", s.table, err)
		}
	} else if len(desc.KeySchema) != 1 || aws.ToString(desc.KeySchema[0].AttributeName) != kclLeaseKey || desc.KeySchema[0].KeyType != ddbtypes.KeyTypeHash {
		return fmt.Errorf("dynamodbstore: lease table %s: key schema is not the KCL's (hash key %s alone)", s.table, kclLeaseKey)
	}
	return t.waitActive(ctx, desc)
}

var _ kinesis.LineageStore = (*KCLStore)(nil)

// RecordShard writes a shard's lineage as the KCL does: parentShardId,
// startingHashKey and endingHashKey on the shard's item (created, if it
// does not exist, with leaseCounter 0 and a checkpoint sentinel: TRIM_HORIZON
// for a child shard, as the KCL starts children, else the initial
// position), and the shard in childShardIds of each parent that has an
// item. Existing checkpoints and leases are left alone.
func (s *KCLStore) RecordShard(ctx context.Context, stream string, sl kinesis.ShardLineage) error {
	if err := checkKey(stream, sl.ShardID); err != nil {
		return err
	}
	init := s.initial
	if len(sl.Parents) > 0 {
		init = SentinelTrimHorizon
	}
	names := map[string]string{"#cnt": kclCounter, "#sw": kclOwnerSwitches, "#cp": kclCheckpoint, "#sub": kclSubSeq}
	values := map[string]ddbtypes.AttributeValue{
		":zero": &ddbtypes.AttributeValueMemberN{Value: "0"},
		":init": &ddbtypes.AttributeValueMemberS{Value: init},
	}
	set := []string{"#cnt = if_not_exists(#cnt, :zero)", "#sw = if_not_exists(#sw, :zero)", "#cp = if_not_exists(#cp, :init)", "#sub = if_not_exists(#sub, :zero)"}
	if len(sl.Parents) > 0 {
		names["#par"] = kclParent
		values[":par"] = &ddbtypes.AttributeValueMemberSS{Value: sl.Parents}
		set = append(set, "#par = :par")
	}
	if sl.StartingHashKey != "" && sl.EndingHashKey != "" {
		names["#sh"], names["#eh"] = kclStartHash, kclEndHash
		values[":sh"] = &ddbtypes.AttributeValueMemberS{Value: sl.StartingHashKey}
		values[":eh"] = &ddbtypes.AttributeValueMemberS{Value: sl.EndingHashKey}
		set = append(set, "#sh = :sh", "#eh = :eh")
	}
	if _, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       s.key(stream, sl.ShardID),
		UpdateExpression:          aws.String("SET " + strings.Join(set, ", ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}); err != nil {
		return fmt.Errorf("dynamodbstore: record shard %s of stream %s in table %s: %w", sl.ShardID, stream, s.table, err)
	}
	for _, p := range sl.Parents {
		_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(s.table),
			Key:                       s.key(stream, p),
			UpdateExpression:          aws.String("ADD #ch :ch"),
			ConditionExpression:       aws.String("attribute_exists(#k)"),
			ExpressionAttributeNames:  map[string]string{"#ch": kclChildren, "#k": kclLeaseKey},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":ch": &ddbtypes.AttributeValueMemberSS{Value: []string{sl.ShardID}}},
		})
		var ccf *ddbtypes.ConditionalCheckFailedException
		if err != nil && !errors.As(err, &ccf) { // no item: the parent is past retention
			return fmt.Errorf("dynamodbstore: record child %s of shard %s of stream %s in table %s: %w", sl.ShardID, p, stream, s.table, err)
		}
	}
	return nil
}
