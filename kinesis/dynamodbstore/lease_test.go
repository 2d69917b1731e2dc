package dynamodbstore_test

import (
	"context"
	"errors"
	"testing"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rtdskit/rtds/internal/dynamodbtest"
	"github.com/rtdskit/rtds/kinesis"
)

func TestLeaseChangedErrorWrapsTheSDKError(t *testing.T) {
	t.Parallel()
	s := dynamodbtest.NewStore(t, dynaliteClient(t))
	ctx := context.Background()
	l := kinesis.Lease{ShardID: "shardId-000000000000", Owner: "a", Counter: 1}
	if err := s.UpdateLease(ctx, "s", kinesis.Lease{ShardID: l.ShardID}, l); err != nil {
		t.Fatal(err)
	}
	err := s.UpdateLease(ctx, "s", kinesis.Lease{ShardID: l.ShardID}, l)
	var ccf *ddbtypes.ConditionalCheckFailedException
	if !errors.Is(err, kinesis.ErrLeaseChanged) || !errors.As(err, &ccf) {
		t.Fatalf("err = %v, want kinesis.ErrLeaseChanged wrapping *types.ConditionalCheckFailedException", err)
	}
}
