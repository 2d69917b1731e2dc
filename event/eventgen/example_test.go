package eventgen_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/rtdskit/rtds/event/eventgen"
)

func Example() {
	g := eventgen.New(42, eventgen.WithTypes("OFFSET_UPDATE", "UNINSTALL"))
	for range 3 {
		var e struct {
			ID, Type string
			Offset   json.Number
		}
		if err := json.Unmarshal(g.Next(), &e); err != nil {
			panic(err)
		}
		fmt.Println(e.Type, e.Offset, len(e.ID))
	}
	// The same seed gives the same events.
	fmt.Println(string(eventgen.New(7, eventgen.WithTypes("OFFSET_UPDATE")).Next()))
	// Output:
	// UNINSTALL 1000097267716 36
	// OFFSET_UPDATE 1000097267718 36
	// UNINSTALL 1000097267721 36
	// {"id":"019bdc4b-57f5-700c-b1ce-39b200000001","type":"OFFSET_UPDATE","offset":"1000026170310","occurred":"2026-01-20T16:44:42.397Z","processed":"2026-01-20T16:44:43.893Z"}
}

// Writing newline-delimited JSON, as `rtds gen` does.
func ExampleGenerator_AppendNext() {
	g := eventgen.New(1, eventgen.WithTypes("OFFSET_UPDATE"))
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	var line []byte
	for range 2 {
		line = append(g.AppendNext(line[:0]), '\n')
		w.Write(line)
	}
	// Output:
	// {"id":"019bdedf-f02c-7af2-aabf-e32b00000001","type":"OFFSET_UPDATE","offset":"1000003074814","occurred":"2026-01-21T04:46:15Z","processed":"2026-01-21T04:46:16Z"}
	// {"id":"019bdedf-f04c-758f-8326-729e00000002","type":"OFFSET_UPDATE","offset":"1000003074815","occurred":"2026-01-21T04:46:15.227Z","processed":"2026-01-21T04:46:16.652Z"}
}
