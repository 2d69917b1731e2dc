package kinesis

// producerConfig is the Producer's configuration. (Placeholder: the producer
// issue fills it in.)
type producerConfig struct {
	common
}

func isProducerHook(h Hook) bool { return false }
