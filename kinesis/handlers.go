package kinesis

import (
	"context"

	"github.com/rtdskit/rtds/event"
)

// Handle registers fn for events of type E (for example *event.Uninstall).
// The On<Type> functions in handlers_gen.go are thin wrappers over Handle.
// (Skeleton: the consumer issue wires it into the consumer.)
func Handle[E event.Event](fn func(context.Context, E) error) ConsumerOption {
	var zero E
	t := zero.EventType()
	return consumerOptionFunc(func(c *consumerConfig) {
		_ = t
		_ = fn
	})
}
