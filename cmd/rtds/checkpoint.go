package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/rtdskit/rtds/kinesis"
)

// fileCheckpointStore keeps checkpoints in one JSON file (stream -> shard
// -> checkpoint), for a single process: --checkpoint file://path. Each
// Save rewrites the file through a temporary file and a rename, so a crash
// leaves the last saved state.
type fileCheckpointStore struct {
	path string

	mu  sync.Mutex
	cps map[string]map[string]kinesis.Checkpoint
}

func newFileCheckpointStore(path string) (*fileCheckpointStore, error) {
	s := &fileCheckpointStore{path: path, cps: map[string]map[string]kinesis.Checkpoint{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("checkpoint file: %w", err)
		}
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("checkpoint file: %w", err)
	}
	if err := json.Unmarshal(b, &s.cps); err != nil {
		return nil, fmt.Errorf("checkpoint file %s: %w", path, err)
	}
	return s, nil
}

func (s *fileCheckpointStore) Load(_ context.Context, stream, shardID string) (kinesis.Checkpoint, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp, ok := s.cps[stream][shardID]
	return cp, ok, nil
}

func (s *fileCheckpointStore) Save(_ context.Context, stream, shardID string, cp kinesis.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cps[stream] == nil {
		s.cps[stream] = map[string]kinesis.Checkpoint{}
	}
	if old, ok := s.cps[stream][shardID]; ok && behind(cp, old) {
		return fmt.Errorf("checkpoint of %s: %w", shardID, kinesis.ErrCheckpointBehind)
	}
	s.cps[stream][shardID] = cp
	b, err := json.MarshalIndent(s.cps, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("checkpoint file: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("checkpoint file: %w", err)
	}
	return nil
}

// behind reports whether a is before b in the shard.
func behind(a, b kinesis.Checkpoint) bool {
	if b.ShardEnded {
		return !a.ShardEnded
	}
	if a.ShardEnded {
		return false
	}
	if len(a.SequenceNumber) != len(b.SequenceNumber) {
		return len(a.SequenceNumber) < len(b.SequenceNumber)
	}
	if a.SequenceNumber != b.SequenceNumber {
		return a.SequenceNumber < b.SequenceNumber
	}
	return a.SubSequenceNumber < b.SubSequenceNumber
}
