package kinesis_test

import (
	"testing"

	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) kinesis.CheckpointStore { return kinesis.NewMemoryStore() })
}
