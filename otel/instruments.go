package rtdsotel

import (
	"errors"

	"go.opentelemetry.io/otel/metric"
)

// Names of the instruments; the package documentation's table describes
// each.
const (
	MetricSentMessages      = "messaging.client.sent.messages"
	MetricConsumedMessages  = "messaging.client.consumed.messages"
	MetricOperationDuration = "messaging.client.operation.duration"
	MetricProcessDuration   = "messaging.process.duration"

	MetricSentBytes         = "rtds.producer.sent.bytes"
	MetricBatchRecords      = "rtds.producer.batch.records"
	MetricBatchSize         = "rtds.producer.batch.size"
	MetricAggregateRecords  = "rtds.producer.aggregate.records"
	MetricPutRetries        = "rtds.producer.retries"
	MetricPutThrottles      = "rtds.producer.throttles"
	MetricBufferUsage       = "rtds.producer.buffer.usage"
	MetricBufferRecords     = "rtds.producer.buffer.records"
	MetricFetchedRecords    = "rtds.consumer.fetched.records"
	MetricFetchedBytes      = "rtds.consumer.fetched.bytes"
	MetricHandlerErrors     = "rtds.consumer.handler.errors"
	MetricDeadLetters       = "rtds.consumer.dead_letters"
	MetricCheckpoints       = "rtds.consumer.checkpoints"
	MetricReadThrottles     = "rtds.consumer.throttles"
	MetricIteratorResets    = "rtds.consumer.iterator_resets"
	MetricLeaseChanges      = "rtds.consumer.lease.changes"
	MetricLeases            = "rtds.consumer.leases"
	MetricMillisBehind      = "rtds.consumer.millis_behind_latest"
	MetricSchemaDriftFields = "rtds.consumer.schema_drift"
)

// Histogram boundaries: the semantic conventions' for durations; powers of
// the Kinesis limits for sizes.
var (
	durationBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
	recordBounds   = []float64{1, 2, 5, 10, 25, 50, 100, 250, 500}
	aggBounds      = []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000}
	sizeBounds     = []float64{1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 5 << 20}
)

type instruments struct {
	sent                             metric.Int64Counter
	consumed                         metric.Int64ObservableCounter
	opDuration, processDuration      metric.Float64Histogram
	sentBytes                        metric.Int64Counter
	batchRecords, batchSize, aggRecs metric.Int64Histogram
	putRetries, putThrottles         metric.Int64Counter
	bufBytes, bufRecords             metric.Int64ObservableGauge
	fetchedRecords, fetchedBytes     metric.Int64Counter
	handlerErrors, deadLetters       metric.Int64Counter
	checkpoints, readThrottles       metric.Int64Counter
	resets, leaseChanges             metric.Int64Counter
	leases, lag                      metric.Int64ObservableGauge
	drift                            metric.Int64Counter
}

func (in *instruments) create(m metric.Meter) error {
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	hist := func(name, unit, desc string, bounds []float64) metric.Int64Histogram {
		h, err := m.Int64Histogram(name, metric.WithUnit(unit), metric.WithDescription(desc), metric.WithExplicitBucketBoundaries(bounds...))
		errs = append(errs, err)
		return h
	}
	fhist := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc), metric.WithExplicitBucketBoundaries(durationBounds...))
		errs = append(errs, err)
		return h
	}
	gauge := func(name, unit, desc string) metric.Int64ObservableGauge {
		g, err := m.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return g
	}
	in.sent = counter(MetricSentMessages, "{message}", "User records delivered or failed for good, by result.")
	// consumed is per record: the hook adds to an atomic, the callback
	// reports the totals.
	var err error
	in.consumed, err = m.Int64ObservableCounter(MetricConsumedMessages, metric.WithUnit("{message}"),
		metric.WithDescription("Events handed to a handler (first attempts), by shard and event type."))
	errs = append(errs, err)
	in.opDuration = fhist(MetricOperationDuration, "Duration of PutRecords and GetRecords calls.")
	in.processDuration = fhist(MetricProcessDuration, "Duration of handler calls, by event type.")
	in.sentBytes = counter(MetricSentBytes, "By", "Data and partition key bytes in PutRecords requests, retries included.")
	in.batchRecords = hist(MetricBatchRecords, "{message}", "User records per PutRecords request.", recordBounds)
	in.batchSize = hist(MetricBatchSize, "By", "Bytes per PutRecords request.", sizeBounds)
	in.aggRecs = hist(MetricAggregateRecords, "{message}", "User records per Kinesis record, per shard and request.", aggBounds)
	in.putRetries = counter(MetricPutRetries, "{message}", "User records scheduled for another attempt, by shard.")
	in.putThrottles = counter(MetricPutThrottles, "{throttle}", "Times a shard throttled writes and its rate was lowered, by shard.")
	in.bufBytes = gauge(MetricBufferUsage, "By", "Bytes put and not yet delivered or failed.")
	in.bufRecords = gauge(MetricBufferRecords, "{message}", "Records put and not yet delivered or failed.")
	in.fetchedRecords = counter(MetricFetchedRecords, "{record}", "Kinesis records fetched (an aggregate counts once), by shard.")
	in.fetchedBytes = counter(MetricFetchedBytes, "By", "Bytes of Kinesis records fetched, by shard.")
	in.handlerErrors = counter(MetricHandlerErrors, "{error}", "Handler calls that returned an error, by event type.")
	in.deadLetters = counter(MetricDeadLetters, "{message}", "Poison records, by reason.")
	in.checkpoints = counter(MetricCheckpoints, "{checkpoint}", "Checkpoint writes, by shard; error.type when the write failed.")
	in.readThrottles = counter(MetricReadThrottles, "{throttle}", "Throttled read-side calls, by operation and shard.")
	in.resets = counter(MetricIteratorResets, "{reset}", "Shard iterators acquired again, by shard and reason.")
	in.leaseChanges = counter(MetricLeaseChanges, "{change}", "Lease changes of this worker, by action.")
	in.leases = gauge(MetricLeases, "{lease}", "Leases held per worker, as the consumer last saw them.")
	in.lag = gauge(MetricMillisBehind, "ms", "MillisBehindLatest of each shard's last GetRecords answer.")
	in.drift = counter(MetricSchemaDriftFields, "{field}", "Unknown types, unknown members and misfit values seen, by event type and kind.")
	return errors.Join(errs...)
}
