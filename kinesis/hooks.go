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
