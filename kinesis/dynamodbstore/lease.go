package dynamodbstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rtdskit/rtds/kinesis"
)

// ListLeases returns the lease of every shard of stream that has a lease or
// a checkpoint in the table, sorted by shard id, with one strongly
// consistent Query (paginated).
func (s *Store) ListLeases(ctx context.Context, stream string) ([]kinesis.Lease, error) {
	if stream == "" {
		return nil, errors.New("dynamodbstore: list leases: empty stream")
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		ConsistentRead:         aws.Bool(true),
		KeyConditionExpression: aws.String("#k = :k"),
		ProjectionExpression:   aws.String("#shard, #own, #cnt, #hand, #ended"),
		ExpressionAttributeNames: map[string]string{
			"#k": ddbAttrAppStream, "#shard": ddbAttrShardID, "#own": ddbAttrOwner,
			"#cnt": ddbAttrCounter, "#hand": ddbAttrHandoff, "#ended": ddbAttrEnded,
		},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":k": &ddbtypes.AttributeValueMemberS{Value: s.app + "#" + stream},
		},
	}
	var out []kinesis.Lease
	for {
		page, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamodbstore: list leases of stream %s in table %s: %w", stream, s.table, err)
		}
		for _, item := range page.Items {
			l, err := decodeLeaseItem(item)
			if err != nil {
				return nil, fmt.Errorf("dynamodbstore: list leases of stream %s in table %s: %w", stream, s.table, err)
			}
			out = append(out, l)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil // Query returns items in sort key order
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func decodeLeaseItem(item map[string]ddbtypes.AttributeValue) (kinesis.Lease, error) {
	var l kinesis.Lease
	rd := itemReader{item: item}
	l.ShardID, l.Owner, l.HandoffTo = rd.str(ddbAttrShardID), rd.str(ddbAttrOwner), rd.str(ddbAttrHandoff)
	if rd.err != nil {
		return l, rd.err
	}
	var err error
	if v, ok := item[ddbAttrCounter]; ok {
		nv, ok := v.(*ddbtypes.AttributeValueMemberN)
		if !ok {
			return l, fmt.Errorf("malformed item of shard %s: %s is %T, want N", l.ShardID, ddbAttrCounter, v)
		}
		if l.Counter, err = strconv.ParseInt(nv.Value, 10, 64); err != nil {
			return l, fmt.Errorf("malformed item of shard %s: %s: %w", l.ShardID, ddbAttrCounter, err)
		}
	}
	if v, ok := item[ddbAttrEnded]; ok {
		bv, ok := v.(*ddbtypes.AttributeValueMemberBOOL)
		if !ok {
			return l, fmt.Errorf("malformed item of shard %s: %s is %T, want BOOL", l.ShardID, ddbAttrEnded, v)
		}
		l.ShardEnded = bv.Value
	}
	return l, nil
}

// UpdateLease replaces a shard's lease with next, on condition that the
// stored lease_counter is old.Counter (absent when old.Counter is 0). A
// failed condition returns an error wrapping kinesis.ErrLeaseChanged and the SDK's
// *types.ConditionalCheckFailedException. The checkpoint attributes of the
// item are left alone.
func (s *Store) UpdateLease(ctx context.Context, stream string, old, next kinesis.Lease) error {
	if err := kinesis.ValidateLeaseUpdate(stream, old, next); err != nil {
		return err
	}
	names := map[string]string{"#cnt": ddbAttrCounter, "#own": ddbAttrOwner, "#hand": ddbAttrHandoff}
	values := map[string]ddbtypes.AttributeValue{
		":next": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(next.Counter, 10)},
	}
	set, remove := "SET #cnt = :next", ""
	if next.Owner != "" {
		set += ", #own = :own"
		values[":own"] = &ddbtypes.AttributeValueMemberS{Value: next.Owner}
	} else {
		remove = " REMOVE #own"
	}
	if next.HandoffTo != "" {
		set += ", #hand = :hand"
		values[":hand"] = &ddbtypes.AttributeValueMemberS{Value: next.HandoffTo}
	} else if remove == "" {
		remove = " REMOVE #hand"
	} else {
		remove += ", #hand"
	}
	cond := "attribute_not_exists(#cnt)"
	if old.Counter != 0 {
		cond = "#cnt = :old"
		values[":old"] = &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(old.Counter, 10)}
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       s.key(stream, old.ShardID),
		UpdateExpression:          aws.String(set + remove),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	return leaseUpdateError(err, s.table, stream, old)
}

// leaseUpdateError is UpdateLease's error for the UpdateItem error err:
// nil, an error wrapping kinesis.ErrLeaseChanged when the counter
// condition failed, or the call's error.
func leaseUpdateError(err error, table, stream string, old kinesis.Lease) error {
	var ccf *ddbtypes.ConditionalCheckFailedException
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ccf):
		return fmt.Errorf("%w: stream %s shard %s (read counter %d): %w", kinesis.ErrLeaseChanged, stream, old.ShardID, old.Counter, err)
	default:
		return fmt.Errorf("dynamodbstore: update lease of stream %s shard %s in table %s: %w", stream, old.ShardID, table, err)
	}
}
