package storetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/storetest"
)

// The example's checkpoint-only store passes; the lease behaviours are
// left out for it.
func TestRunAcceptsACheckpointOnlyStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) kinesis.CheckpointStore { return newMapStore() })
}

// forgetfulStore is mapStore but for one rule: it stores a checkpoint
// behind the stored one instead of refusing it.
type forgetfulStore struct{ *mapStore }

func (s forgetfulStore) Save(ctx context.Context, stream, shardID string, cp kinesis.Checkpoint) error {
	err := s.mapStore.Save(ctx, stream, shardID, cp)
	if errors.Is(err, kinesis.ErrCheckpointBehind) {
		s.mu.Lock()
		s.cps[[2]string{stream, shardID}] = cp
		s.mu.Unlock()
		return nil
	}
	return err
}

const envForgetful = "RTDS_STORETEST_FORGETFUL"

// TestHelperForgetfulStore is not a test: it is the run of the suite on a
// store that moves checkpoints backwards, which
// TestRunFailsAStoreThatMovesBackwards starts in a process of its own and
// expects to fail.
func TestHelperForgetfulStore(t *testing.T) {
	if os.Getenv(envForgetful) != "1" {
		return
	}
	storetest.Run(t, func(t *testing.T) kinesis.CheckpointStore { return forgetfulStore{newMapStore()} })
}

func TestRunFailsAStoreThatMovesBackwards(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperForgetfulStore$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envForgetful+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed a store that moves checkpoints backwards:\n%s", out)
	}
	for _, want := range []string{
		"--- FAIL: TestHelperForgetfulStore/Checkpoints/SaveBehindStoredIsRefused",
		"--- PASS: TestHelperForgetfulStore/Checkpoints/SavedCheckpointLoadsUnchanged",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
