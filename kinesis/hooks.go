package kinesis

import "fmt"

// Hook is any value that implements one or more of the Hook* interfaces
// (HookPutBatch, HookRecordsFetched, ...). Hooks are found by type
// assertion. They are called synchronously from the library's goroutines,
// so they must be fast and safe for concurrent use.
type Hook any

// WithHooks adds observability hooks. A value that implements none of the
// Hook* interfaces makes the constructor return an error.
func WithHooks(hooks ...Hook) Option {
	return commonOption(func(c *common) {
		for _, h := range hooks {
			if !isProducerHook(h) && !isConsumerHook(h) {
				c.setErr(fmt.Errorf("kinesis: hook %T implements no Hook interface", h))
				continue
			}
			c.hooks = append(c.hooks, h)
		}
	})
}

// hooksOf returns the hooks that implement T, in order. The producer and
// the consumer sort their hooks with it once, so the hot paths do no type
// assertions.
func hooksOf[T any](hs []Hook) []T {
	var out []T
	for _, h := range hs {
		if x, ok := h.(T); ok {
			out = append(out, x)
		}
	}
	return out
}
