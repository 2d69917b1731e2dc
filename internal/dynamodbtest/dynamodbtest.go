// Package dynamodbtest gives rtds's tests a dynamodbstore.Store on a fresh
// table of the dynalite emulator (see internal/testenv). It is a package of
// its own because package kinesis's tests cannot import
// kinesis/dynamodbstore (which imports kinesis); they reach it through
// their external test package.
package dynamodbtest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis/dynamodbstore"
)

// NewStore returns a store on a new table of client (usually from
// testenv.DynamoDB), created with EnsureTable and deleted when t ends.
func NewStore(t testing.TB, client *dynamodb.Client, opts ...dynamodbstore.Option) *dynamodbstore.Store {
	t.Helper()
	table := testenv.UniqueName("rtds-checkpoints")
	s, err := dynamodbstore.New(client, table, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			t.Logf("delete table %s: %v", table, err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}
