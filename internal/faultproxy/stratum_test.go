package faultproxy

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestStratumSpreadsFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		frac         float64
		calls        int
	}{
		{"none", "a zero fraction never fires", 0, 1000},
		{"all", "a fraction of 1 fires on every call", 1, 1000},
		{"half", "every other call on average", 0.5, 1001},
		{"rare", "0.5% of 1000 calls fires 5 times, never 0", 0.005, 1000},
		{"odd", "a fraction that does not divide the calls", 0.013, 777},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for seed := range uint64(50) {
				var s stratum
				rng := rand.New(rand.NewPCG(seed, seed))
				fired, last := 0, 0
				for call := 1; call <= tt.calls; call++ {
					if s.fire(tt.frac, rng) {
						fired++
						if tt.frac > 0 && float64(call-last) >= 2/tt.frac {
							t.Fatalf("%s: seed %d: gap of %d calls between faults exceeds two windows of %.0f", tt.reason, seed, call-last, 1/tt.frac)
						}
						last = call
					}
				}
				want := float64(tt.calls) * tt.frac
				if float64(fired) < math.Floor(want) || float64(fired) > math.Ceil(want) {
					t.Fatalf("%s: seed %d: fired %d times in %d calls, want %v rounded", tt.reason, seed, fired, tt.calls, want)
				}
			}
		})
	}
}
