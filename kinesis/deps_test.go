package kinesis_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/rtdskit/rtds/internal/testenv"
)

// A program that uses kinesis with the memory store, or a store of its own,
// does not link the DynamoDB SDK: the DynamoDB store is in package
// kinesis/dynamodbstore.
func TestKinesisDoesNotDependOnDynamoDB(t *testing.T) {
	t.Parallel()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if testenv.Required() {
			t.Fatalf("the go command is needed to list the dependencies of kinesis: %v", err)
		}
		t.Skipf("the go command is needed to list the dependencies of kinesis: %v", err)
	}
	out, err := exec.Command(goCmd, "list", "-deps", "github.com/rtdskit/rtds/kinesis").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !strings.Contains(string(out), "github.com/aws/aws-sdk-go-v2/service/kinesis\n") {
		t.Fatalf("go list -deps listed %d packages, not the dependencies of kinesis:\n%s", len(deps), out)
	}
	for _, dep := range deps {
		if strings.Contains(strings.ToLower(dep), "dynamodb") {
			t.Errorf("kinesis depends on %s", dep)
		}
	}
}
