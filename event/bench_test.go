package event

import (
	"testing"

	"github.com/rtdskit/rtds/event/eventgen"
	"github.com/rtdskit/rtds/internal/stdjson"
)

// benchCorpus is a realistic mixed corpus: events of every known type from
// eventgen (the generator behind rtds gen), with its share of legacy device
// forms, unicode and escapes.
func benchCorpus(b *testing.B) (events [][]byte, total int64) {
	b.Helper()
	g := eventgen.New(1)
	for range 2000 {
		data := g.Next()
		events = append(events, data)
		total += int64(len(data))
	}
	return events, total
}

// BenchmarkDecode compares Decode with encoding/json decoding the same
// events into equivalent structs (envelope, then the body by type), side by
// side. Each iteration decodes one event; the ratio of the MB/s columns is
// the speed-up.
func BenchmarkDecode(b *testing.B) {
	events, total := benchCorpus(b)
	avg := total / int64(len(events))
	b.Run("rtds", func(b *testing.B) {
		b.SetBytes(avg)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := Decode(events[i%len(events)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(avg)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, _, err := stdjson.Decode(events[i%len(events)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPeekType measures the type-only peek used to skip events without
// a handler; compare its ns/op with BenchmarkDecode/rtds.
func BenchmarkPeekType(b *testing.B) {
	events, total := benchCorpus(b)
	b.SetBytes(total / int64(len(events)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := PeekType(events[i%len(events)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendDrift measures the drift check on decoded events: "none"
// are events of the documented shape (a few nil checks, no allocation);
// "corpus" is the eventgen corpus, whose events of a few types carry
// members the table does not model. Compare with BenchmarkDecode/rtds.
func BenchmarkAppendDrift(b *testing.B) {
	events, _ := benchCorpus(b)
	var decoded, clean []Event
	for _, data := range events {
		e, err := Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		decoded = append(decoded, e)
		if len(AppendDrift(nil, e)) == 0 {
			clean = append(clean, e)
		}
	}
	for _, c := range []struct {
		name   string
		events []Event
	}{{"none", clean}, {"corpus", decoded}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []Drift
			for i := 0; b.Loop(); i++ {
				buf = AppendDrift(buf[:0], c.events[i%len(c.events)])
			}
		})
	}
}
