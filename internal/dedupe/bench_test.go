package dedupe

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkSeen measures Seen in steady state (the window full, every new id
// evicting the oldest). Compare allocs/op side by side: UUID ids should not
// allocate; other ids allocate their copy once.
func BenchmarkSeen(b *testing.B) {
	const capacity = 100_000
	const distinct = 1 << 18 // > capacity, so the window evicts
	uuids := make([]string, distinct)
	strs := make([]string, distinct)
	for i := range distinct {
		uuids[i] = uuidN(i)
		strs[i] = "evt-" + strconv.Itoa(i)
	}
	cases := []struct {
		name string
		ids  []string
		opts []Option
	}{
		{"uuid/new", uuids, nil},
		{"uuid/new-ttl", uuids, []Option{WithTTL(time.Hour)}},
		{"string/new", strs, nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			w := mustNew(b, capacity, c.opts...)
			for i := range capacity { // fill: steady state from the start
				w.Add(c.ids[i%distinct])
			}
			b.ReportAllocs()
			i := capacity
			for b.Loop() {
				w.Seen(c.ids[i%distinct])
				i++
			}
		})
	}
	b.Run("uuid/duplicate", func(b *testing.B) {
		w := mustNew(b, capacity)
		for i := range capacity {
			w.Add(uuids[i])
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if !w.Seen(uuids[i%capacity]) {
				b.Fatal("expected a duplicate")
			}
			i++
		}
	})
	b.Run("uuid/parallel", func(b *testing.B) {
		w := mustNew(b, capacity)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				w.Seen(uuids[i%distinct])
				i += 7
			}
		})
	})
}
