package rtdsotel

import "github.com/rtdskit/rtds/kinesis"

// OnRecordsFetched implements kinesis.HookRecordsFetched.
func (m *Metrics) OnRecordsFetched(f kinesis.RecordsFetchedMetrics) {
	ctx, in, sh := m.ctx, &m.instr, m.shards.get(f.ShardID)
	in.fetchedRecords.Add(ctx, int64(f.Records), sh.add...)
	in.fetchedBytes.Add(ctx, int64(f.Bytes), sh.add...)
	in.opDuration.Record(ctx, f.Latency.Seconds(), m.getCall.rec...)
}

// OnHandlerDone implements kinesis.HookHandlerDone.
func (m *Metrics) OnHandlerDone(h kinesis.HandlerDoneMetrics) {
	ctx, in := m.ctx, &m.instr
	if h.Attempt == 1 {
		m.consumed.get(shardType{h.ShardID, string(h.Type)}).n.Add(1)
	}
	k := typeErr{typ: string(h.Type)}
	if h.Err != nil {
		k.err = "handler_error"
	}
	p := m.process.get(k)
	in.processDuration.Record(ctx, h.Latency.Seconds(), p.rec...)
	if h.Err != nil {
		in.handlerErrors.Add(ctx, 1, p.add...)
	}
}

// OnDeadLettered implements kinesis.HookDeadLettered.
func (m *Metrics) OnDeadLettered(d kinesis.DeadLetter) {
	m.instr.deadLetters.Add(m.ctx, 1, m.dead.get(d.Reason).add...)
}

// OnCheckpoint implements kinesis.HookCheckpoint.
func (m *Metrics) OnCheckpoint(c kinesis.CheckpointMetrics) {
	k := shardErr{shard: c.ShardID}
	if c.Err != nil {
		k.err = errorType(c.Err)
	}
	m.instr.checkpoints.Add(m.ctx, 1, m.cpErr.get(k).add...)
}

// OnReadThrottled implements kinesis.HookReadThrottled.
func (m *Metrics) OnReadThrottled(t kinesis.ReadThrottleMetrics) {
	m.instr.readThrottles.Add(m.ctx, 1, m.readThr.get(shardOp{t.ShardID, string(t.Op)}).add...)
}

// OnIteratorReset implements kinesis.HookIteratorReset.
func (m *Metrics) OnIteratorReset(r kinesis.IteratorResetMetrics) {
	m.instr.resets.Add(m.ctx, 1, m.resets.get(shardReset{r.ShardID, string(r.Reason)}).add...)
}

// OnLease implements kinesis.HookLease.
func (m *Metrics) OnLease(l kinesis.LeaseMetrics) {
	m.instr.leaseChanges.Add(m.ctx, 1, m.leases.get(l.Action).add...)
}

// OnSchemaDrift implements kinesis.HookSchemaDrift: one count per drift
// entry (member or unknown type).
func (m *Metrics) OnSchemaDrift(d kinesis.SchemaDriftMetrics) {
	for _, x := range d.Drift {
		m.instr.drift.Add(m.ctx, 1, m.drift.get(typeDrift{string(d.Type), string(x.Kind)}).add...)
	}
}

// The hooks Metrics implements.
var (
	_ kinesis.HookPutBatch       = (*Metrics)(nil)
	_ kinesis.HookPutFailed      = (*Metrics)(nil)
	_ kinesis.HookPutRetried     = (*Metrics)(nil)
	_ kinesis.HookPutThrottled   = (*Metrics)(nil)
	_ kinesis.HookPutBuffer      = (*Metrics)(nil)
	_ kinesis.HookRecordsFetched = (*Metrics)(nil)
	_ kinesis.HookHandlerDone    = (*Metrics)(nil)
	_ kinesis.HookDeadLettered   = (*Metrics)(nil)
	_ kinesis.HookCheckpoint     = (*Metrics)(nil)
	_ kinesis.HookReadThrottled  = (*Metrics)(nil)
	_ kinesis.HookIteratorReset  = (*Metrics)(nil)
	_ kinesis.HookLease          = (*Metrics)(nil)
	_ kinesis.HookSchemaDrift    = (*Metrics)(nil)
)
