package rtdsotel

import "github.com/rtdskit/rtds/kinesis"

// OnPutBatch implements kinesis.HookPutBatch.
func (m *Metrics) OnPutBatch(b kinesis.PutBatchMetrics) {
	ctx, in := m.ctx, &m.instr
	if b.Delivered > 0 {
		in.sent.Add(ctx, int64(b.Delivered), m.delivered.add...)
	}
	call := m.putCall
	if b.Err != nil {
		call = m.putErr.get(errorType(b.Err))
	}
	in.opDuration.Record(ctx, b.Latency.Seconds(), call.rec...)
	in.sentBytes.Add(ctx, int64(b.Bytes), m.base.add...)
	in.batchRecords.Record(ctx, int64(b.Records), m.base.rec...)
	in.batchSize.Record(ctx, int64(b.Bytes), m.base.rec...)
	for _, s := range b.Shards {
		if s.KinesisRecords > 0 {
			in.aggRecs.Record(ctx, int64(s.Records/s.KinesisRecords), m.base.rec...)
		}
	}
}

// OnPutFailed implements kinesis.HookPutFailed.
func (m *Metrics) OnPutFailed(f kinesis.PutFailureMetrics) {
	m.instr.sent.Add(m.ctx, int64(f.Records), m.failed.get(errorType(f.Err)).add...)
}

// OnPutRetried implements kinesis.HookPutRetried.
func (m *Metrics) OnPutRetried(r kinesis.PutRetryMetrics) {
	m.instr.putRetries.Add(m.ctx, int64(r.Records), m.shards.get(r.ShardID).add...)
}

// OnPutThrottled implements kinesis.HookPutThrottled.
func (m *Metrics) OnPutThrottled(t kinesis.PutThrottleMetrics) {
	m.instr.putThrottles.Add(m.ctx, 1, m.shards.get(t.ShardID).add...)
}

// OnPutBuffer implements kinesis.HookPutBuffer.
func (m *Metrics) OnPutBuffer(b kinesis.BufferMetrics) {
	m.bufBytes.Store(int64(b.Bytes))
	m.bufRecs.Store(int64(b.Records))
	if !m.bufSeen.Load() {
		m.bufSeen.Store(true)
	}
}
