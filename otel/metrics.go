package rtdsotel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/rtdskit/rtds/kinesis"
)

// ScopeName is the instrumentation scope of the meter Metrics uses.
const ScopeName = "github.com/rtdskit/rtds/otel"

// MaxAttributeSets bounds the attribute sets each instrument family
// precomputes (one per shard, per shard and event type, per error code,
// ...). Values past it are recorded under one set with
// rtds.overflow=true, so a runaway attribute value cannot grow memory
// without bound.
const MaxAttributeSets = 4096

// Attribute keys beyond the semantic conventions' messaging.* and
// error.type.
const (
	AttrEventType        = attribute.Key("rtds.event.type")
	AttrResult           = attribute.Key("rtds.result")
	AttrDeadLetterReason = attribute.Key("rtds.dead_letter.reason")
	AttrOperation        = attribute.Key("rtds.operation")
	AttrResetReason      = attribute.Key("rtds.reset.reason")
	AttrLeaseAction      = attribute.Key("rtds.lease.action")
	AttrWorker           = attribute.Key("rtds.worker.id")
	AttrDriftKind        = attribute.Key("rtds.drift.kind")
	AttrOverflow         = attribute.Key("rtds.overflow")
)

// Semantic-convention attribute keys and values used.
const (
	attrSystem      = attribute.Key("messaging.system")
	attrDestination = attribute.Key("messaging.destination.name")
	attrPartition   = attribute.Key("messaging.destination.partition.id")
	attrOpName      = attribute.Key("messaging.operation.name")
	attrOpType      = attribute.Key("messaging.operation.type")
	attrErrorType   = attribute.Key("error.type")
	// System is the messaging.system value.
	System = "aws_kinesis"
)

// Option configures Metrics.
type Option interface{ apply(*config) }

type config struct {
	mp metric.MeterProvider
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithMeterProvider sets the MeterProvider the instruments are created
// with. The default is otel.GetMeterProvider() at the time New is called.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.mp = mp })
}

// Metrics records a producer's and a consumer's hooks as OpenTelemetry
// metrics for one stream. Pass it to kinesis.WithHooks; call
// ObserveConsumer to also observe shard lag and leases from the
// consumer's Stats. The instruments are listed in the package
// documentation.
//
// Attribute sets are computed once per shard, event type, reason, ...
// and reused, so the hooks allocate nothing per record. Metrics is safe
// for concurrent use; one Metrics may serve several producers and
// consumers of the same stream.
type Metrics struct {
	stream string
	ctx    context.Context

	// Fixed attribute sets.
	base      *opts // system, destination
	delivered *opts // base + rtds.result=delivered
	putCall   *opts // PutRecords, send
	getCall   *opts // GetRecords, receive

	shards    cache[string]    // base + partition
	consumed  cache[shardType] // base + partition + event type
	process   cache[typeErr]   // base + process + event type (+ error.type)
	failed    cache[string]    // base + error.type (records failed for good)
	putErr    cache[string]    // PutRecords call + error.type
	getErr    cache[string]    // GetRecords call + error.type
	cpErr     cache[shardErr]  // base + partition + error.type
	dead      cache[kinesis.DeadLetterReason]
	readThr   cache[shardOp]
	resets    cache[shardReset]
	leases    cache[kinesis.LeaseAction]
	workers   cache[string]
	drift     cache[typeDrift]
	instr     instruments
	bufBytes  atomic.Int64
	bufRecs   atomic.Int64
	bufSeen   atomic.Bool
	reg       metric.Registration
	mu        sync.Mutex
	consumers []func() kinesis.ConsumerStats
}

type (
	shardType  struct{ shard, typ string }
	typeErr    struct{ typ, err string }
	shardErr   struct{ shard, err string }
	shardOp    struct{ shard, op string }
	shardReset struct{ shard, reason string }
	typeDrift  struct{ typ, kind string }
)

// New returns Metrics for stream, with its instruments created from the
// MeterProvider (see WithMeterProvider).
func New(stream string, options ...Option) (*Metrics, error) {
	if stream == "" {
		return nil, errors.New("rtdsotel: empty stream name")
	}
	cfg := config{}
	for _, o := range options {
		o.apply(&cfg)
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	meter := cfg.mp.Meter(ScopeName)
	m := &Metrics{stream: stream, ctx: context.Background()}
	if err := m.instr.create(meter); err != nil {
		return nil, fmt.Errorf("rtdsotel: %w", err)
	}
	sys, dst := attrSystem.String(System), attrDestination.String(stream)
	m.base = newOpts(sys, dst)
	m.delivered = newOpts(sys, dst, AttrResult.String("delivered"))
	m.putCall = newOpts(sys, dst, attrOpName.String("PutRecords"), attrOpType.String("send"))
	m.getCall = newOpts(sys, dst, attrOpName.String("GetRecords"), attrOpType.String("receive"))
	m.shards.init(func(k string) []attribute.KeyValue { return []attribute.KeyValue{sys, dst, attrPartition.String(k)} })
	m.consumed.init(func(k shardType) []attribute.KeyValue {
		return []attribute.KeyValue{sys, dst, attrPartition.String(k.shard), AttrEventType.String(k.typ)}
	})
	m.process.init(func(k typeErr) []attribute.KeyValue {
		kv := []attribute.KeyValue{sys, dst, attrOpName.String("process"), attrOpType.String("process"), AttrEventType.String(k.typ)}
		if k.err != "" {
			kv = append(kv, attrErrorType.String(k.err))
		}
		return kv
	})
	m.failed.init(func(k string) []attribute.KeyValue {
		return []attribute.KeyValue{sys, dst, AttrResult.String("failed"), attrErrorType.String(k)}
	})
	m.putErr.init(func(k string) []attribute.KeyValue {
		return []attribute.KeyValue{sys, dst, attrOpName.String("PutRecords"), attrOpType.String("send"), attrErrorType.String(k)}
	})
	m.getErr.init(func(k string) []attribute.KeyValue {
		return []attribute.KeyValue{sys, dst, attrOpName.String("GetRecords"), attrOpType.String("receive"), attrErrorType.String(k)}
	})
	m.cpErr.init(func(k shardErr) []attribute.KeyValue {
		kv := []attribute.KeyValue{sys, dst, attrPartition.String(k.shard)}
		if k.err != "" {
			kv = append(kv, attrErrorType.String(k.err))
		}
		return kv
	})
	m.dead.init(func(k kinesis.DeadLetterReason) []attribute.KeyValue {
		return []attribute.KeyValue{sys, dst, AttrDeadLetterReason.String(string(k))}
	})
	m.readThr.init(func(k shardOp) []attribute.KeyValue {
		kv := []attribute.KeyValue{sys, dst, AttrOperation.String(k.op)}
		if k.shard != "" {
			kv = append(kv, attrPartition.String(k.shard))
		}
		return kv
	})
	m.resets.init(func(k shardReset) []attribute.KeyValue {
		return []attribute.KeyValue{sys, dst, attrPartition.String(k.shard), AttrResetReason.String(k.reason)}
	})
	m.leases.init(func(k kinesis.LeaseAction) []attribute.KeyValue {
		return []attribute.KeyValue{sys, dst, AttrLeaseAction.String(string(k))}
	})
	m.workers.init(func(k string) []attribute.KeyValue { return []attribute.KeyValue{sys, dst, AttrWorker.String(k)} })
	m.drift.init(func(k typeDrift) []attribute.KeyValue {
		return []attribute.KeyValue{sys, dst, AttrEventType.String(k.typ), AttrDriftKind.String(k.kind)}
	})
	overflow := []attribute.KeyValue{sys, dst, AttrOverflow.Bool(true)}
	for _, c := range []interface{ setOverflow([]attribute.KeyValue) }{&m.shards, &m.consumed, &m.process,
		&m.failed, &m.putErr, &m.getErr, &m.cpErr, &m.dead, &m.readThr, &m.resets, &m.leases, &m.workers, &m.drift} {
		c.setOverflow(overflow)
	}
	reg, err := meter.RegisterCallback(m.observe, m.instr.bufBytes, m.instr.bufRecords, m.instr.lag, m.instr.leases, m.instr.consumed)
	if err != nil {
		return nil, fmt.Errorf("rtdsotel: %w", err)
	}
	m.reg = reg
	return m, nil
}

// ObserveConsumer adds c's Stats to the observable gauges: per-shard
// MillisBehindLatest and leases held per worker. Call it once per
// consumer, after NewConsumer.
func (m *Metrics) ObserveConsumer(c interface{ Stats() kinesis.ConsumerStats }) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.consumers = append(m.consumers, c.Stats)
}

// Close unregisters the observable gauges' callback. The hooks keep
// working (they record into the synchronous instruments).
func (m *Metrics) Close() error {
	return m.reg.Unregister()
}

func (m *Metrics) observe(_ context.Context, o metric.Observer) error {
	if m.bufSeen.Load() {
		o.ObserveInt64(m.instr.bufBytes, m.bufBytes.Load(), m.base.obs...)
		o.ObserveInt64(m.instr.bufRecords, m.bufRecs.Load(), m.base.obs...)
	}
	m.consumed.each(func(c *opts) {
		if n := c.n.Load(); n > 0 {
			o.ObserveInt64(m.instr.consumed, n, c.obs...)
		}
	})
	m.mu.Lock()
	sources := m.consumers
	m.mu.Unlock()
	for _, stats := range sources {
		st := stats()
		held := map[string]int64{}
		for _, sh := range st.Shards {
			if sh.State == kinesis.ShardEnded || sh.State == kinesis.ShardStopped {
				continue
			}
			o.ObserveInt64(m.instr.lag, sh.MillisBehindLatest, m.shards.get(sh.ShardID).obs...)
			if sh.Owner != "" {
				held[sh.Owner]++
			}
		}
		if st.Worker != "" {
			if _, ok := held[st.Worker]; !ok {
				held[st.Worker] = 0
			}
		}
		for w, n := range held {
			o.ObserveInt64(m.instr.leases, n, m.workers.get(w).obs...)
		}
	}
	return nil
}

// errorType is the error.type of err: the AWS error code when it has one,
// else "_OTHER" (the semantic conventions' fallback).
func errorType(err error) string {
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		if c := coded.ErrorCode(); c != "" {
			return c
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	if errors.Is(err, kinesis.ErrClosed) {
		return "closed"
	}
	return "_OTHER"
}
