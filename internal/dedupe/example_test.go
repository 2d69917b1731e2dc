package dedupe_test

import (
	"fmt"
	"time"

	"github.com/rtdskit/rtds/internal/dedupe"
)

// Record an event's id only once its handler succeeded, so a failed
// event's retry is not mistaken for a duplicate.
func ExampleWindow() {
	w, err := dedupe.New(100_000, dedupe.WithTTL(24*time.Hour))
	if err != nil {
		panic(err)
	}
	handle := func(id string, fail bool) {
		if w.Contains(id) {
			fmt.Println(id, "duplicate: skipped")
			return
		}
		if fail {
			fmt.Println(id, "handler failed: will be retried")
			return
		}
		w.Add(id)
		fmt.Println(id, "handled")
	}
	handle("ff76bb85-74bc-4511-a3bf-11b6117784db", false)
	handle("ff76bb85-74bc-4511-a3bf-11b6117784db", false) // Airship delivered it twice
	handle("0b9a4b7c-2d3e-4f10-9a8b-7c6d5e4f3a2b", true)
	handle("0b9a4b7c-2d3e-4f10-9a8b-7c6d5e4f3a2b", false)
	// Output:
	// ff76bb85-74bc-4511-a3bf-11b6117784db handled
	// ff76bb85-74bc-4511-a3bf-11b6117784db duplicate: skipped
	// 0b9a4b7c-2d3e-4f10-9a8b-7c6d5e4f3a2b handler failed: will be retried
	// 0b9a4b7c-2d3e-4f10-9a8b-7c6d5e4f3a2b handled
}
