package kinesis

import (
	"io"
	"log/slog"
)

// ProducerOption configures a Producer. Options are sealed: only this
// package's With* functions create them.
type ProducerOption interface {
	applyProducer(*producerConfig)
}

// ConsumerOption configures a Consumer, including its handlers (every
// HandlerOption is a ConsumerOption). Options are sealed: only this
// package creates them.
type ConsumerOption interface {
	applyConsumer(*consumerConfig)
}

// Option configures a Producer, a Consumer and a Dispatcher (WithLogger,
// WithHooks).
type Option interface {
	ProducerOption
	HandlerOption
}

// common is the configuration shared by producers and consumers. Both
// producerConfig and consumerConfig embed it.
type common struct {
	logger *slog.Logger
	hooks  []Hook
	wire   WireCodec // WithWireCodec; the zero value is WireFast
	err    error     // first invalid option, reported by the constructor
}

func (c *common) setErr(err error) {
	if c.err == nil {
		c.err = err
	}
}

type producerOptionFunc func(*producerConfig)

func (f producerOptionFunc) applyProducer(c *producerConfig) { f(c) }

type consumerOptionFunc func(*consumerConfig)

func (f consumerOptionFunc) applyConsumer(c *consumerConfig) { f(c) }

type commonOption func(*common)

func (f commonOption) applyProducer(c *producerConfig) { f(&c.common) }
func (f commonOption) applyConsumer(c *consumerConfig) { f(&c.common) }

// discardLogger is used when no logger (or a nil one) is given.
var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// WithLogger sets the logger. Default: nil, which discards all logs. The
// library logs at Debug for per-batch detail, Info for lifecycle (start,
// stop, shard started/ended) and Warn/Error for retries and failures; it
// never logs record payloads at Info or above.
func WithLogger(l *slog.Logger) Option {
	return commonOption(func(c *common) {
		c.logger = l
	})
}

func (c *common) log() *slog.Logger {
	if c.logger == nil {
		return discardLogger
	}
	return c.logger
}
