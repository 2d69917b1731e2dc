package kinesis_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rtdskit/rtds/internal/dynamodbtest"
	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/dynamodbstore"
)

// Installs kinesis/dynamodbstore for the consumer tests of package kinesis
// (see dynamodb_hook_test.go).
func init() {
	kinesis.DynamoDBTestStores.New = func(t testing.TB, client *dynamodb.Client) kinesis.DynamoDBTestStore {
		return dynamodbtest.NewStore(t, client)
	}
	kinesis.DynamoDBTestStores.Open = func(client *dynamodb.Client, table string) (kinesis.DynamoDBTestStore, error) {
		return dynamodbstore.New(client, table)
	}
}
