package kinesis

import (
	"context"
	"testing"
)

func TestMemoryStoreBehindMessage(t *testing.T) {
	t.Parallel()
	s := NewMemoryStore()
	ctx := context.Background()
	if err := s.Save(ctx, "orders", "shardId-000000000003", Checkpoint{SequenceNumber: "200", SubSequenceNumber: 1}); err != nil {
		t.Fatal(err)
	}
	err := s.Save(ctx, "orders", "shardId-000000000003", Checkpoint{SequenceNumber: "199", SubSequenceNumber: 4})
	const want = "kinesis: checkpoint is behind the stored one: stream orders shard shardId-000000000003: saving 199/4, stored 200/1"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
}
