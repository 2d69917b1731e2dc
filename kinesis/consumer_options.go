package kinesis

// consumerConfig is the Consumer's configuration. (Placeholder: the consumer
// issue fills it in.)
type consumerConfig struct {
	common
}

func isConsumerHook(h Hook) bool { return false }
