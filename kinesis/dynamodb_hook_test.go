package kinesis

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rtdskit/rtds/internal/testenv"
)

// Some consumer tests of this package run on the DynamoDB store, which
// lives in kinesis/dynamodbstore and imports kinesis: these tests (package
// kinesis) cannot import it. The external test package, which can, installs
// it here (dynamodb_hook_ext_test.go).

// DynamoDBTestStore is what the consumer tests use of a dynamodbstore.Store.
type DynamoDBTestStore interface {
	LeaseStore
	Table() string
}

// DynamoDBTestStores makes DynamoDB stores on dynalite for this package's
// tests: New on a fresh table that is deleted when t ends, Open on an
// existing table.
var DynamoDBTestStores struct {
	New  func(t testing.TB, client *dynamodb.Client) DynamoDBTestStore
	Open func(client *dynamodb.Client, table string) (DynamoDBTestStore, error)
}

// dynaliteClient returns a client for dynalite whose idle connections are
// closed when the test ends (goleak checks the package for leftovers).
func dynaliteClient(t *testing.T) *dynamodb.Client {
	t.Helper()
	client, _ := testenv.DynamoDB(t)
	return client
}

// newDynamoTestStore returns a store on a fresh table of client, deleted
// when t ends.
func newDynamoTestStore(t *testing.T, client *dynamodb.Client) DynamoDBTestStore {
	t.Helper()
	return DynamoDBTestStores.New(t, client)
}

// openDynamoTestStore returns a store on client's existing table.
func openDynamoTestStore(client *dynamodb.Client, table string) (DynamoDBTestStore, error) {
	return DynamoDBTestStores.Open(client, table)
}
