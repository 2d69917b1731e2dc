package event_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/event/eventgen"
)

// peekCases are hand-written events exercising the resolution rules
// PeekKeys must share with Decode: duplicates, legacy and mixed-case
// platform keys, the named_user spelling, escapes, non-string values.
var peekCases = []string{
	`{"id":"a","type":"OPEN","device":{"channel":"c","ios_channel":"i"}}`,
	`{"id":"a","type":"OPEN","device":{"ios_channel":"i","android_channel":"x"}}`,
	`{"id":"a","type":"OPEN","device":{"amazon_channel":"z","android_channel":"x"}}`,
	`{"id":"a","type":"OPEN","device":{"IOS_channel":"a","Ios_Channel":"b","ios_channel":""}}`,
	`{"id":"a","type":"OPEN","device":{"Ios_Channel":"b","IOS_channel":"a"}}`,
	`{"id":"a","type":"OPEN","device":{"IOS_channel":"a","IOS_channel":"b"}}`,
	`{"id":"a","type":"OPEN","device":{"IOS_channel":"","Ios_channel":"b"}}`,
	`{"id":"a","type":"OPEN","device":{"ANDROID_CHANNEL":7,"Android_Channel":"b"}}`,
	`{"id":"a","type":"OPEN","device":{"channel":"c","channel":""}}`,
	`{"id":"a","type":"OPEN","device":{"channel":"c","channel":null}}`,
	`{"id":"a","type":"OPEN","device":{"channel":1}}`,
	`{"id":"a","type":"OPEN","device":{"channel":"c"},"device":{"ios_channel":"i"}}`,
	`{"id":"a","type":"OPEN","device":{"channel":"c"},"device":null}`,
	`{"id":"a","type":"OPEN","device":[{"channel":"c"}]}`,
	`{"id":"a","type":"COMPLIANCE","device":{"named_user_id":"","named_user":"n"}}`,
	`{"id":"a","type":"COMPLIANCE","device":{"named_user":"n","named_user_id":"m"}}`,
	`{"id":"a","type":"COMPLIANCE","device":{"named_user":"n","named_user":"o"}}`,
	`{"id":"a","type":"COMPLIANCE","device":{"named_user":""},"user":{"named_user_id":"u"}}`,
	`{"id":"a","type":"COMPLIANCE","user":{"named_user_id":"u","contact_id":"k"}}`,
	`{"id":"a","type":"COMPLIANCE","user":{"named_user_id":"u"},"user":"x"}`,
	`{"id":"a","type":"OPEN","device":{"named_user_id":"d"},"user":{"named_user_id":"u"}}`,
	`{"i\u0064":"a\"b","type":"OP\u0045N","device":{"chan\u006eel":"c\u00e9\n"}}`,
	`{"id":"\ud83d\ude00","type":"CUSTOM","device":{"channel":"\ud800x"}}`,
	"{\"id\":\"a\",\"type\":\"OPEN\",\"device\":{\"channel\":\"\xff\xfe\"}}",
	`{"id":"a","id":"b","type":"OPEN","type":"CLOSE"}`,
	`{"id":"a","type":"SOMETHING_NEW","device":{"channel":"c"},"body":{"x":[1,{"y":null}]}}`,
	` { "id" : "a" , "type" : "OPEN" , "device" : { "channel" : "c" } } `,
	`{"type":"OPEN","device":{"channel":"c"},"body":{"session_id":"s"},"id":"late"}`,
	`{"id":"a","type":"OPEN","device":{"attributes":{"k":"v"},"identifiers":{"a":1},"channel":"c"}}`,
	// Rejected by both.
	`{"id":"a","type":"OPEN"}}`,
	`{"id":"","type":"OPEN"}`,
	`{"id":1,"type":"OPEN"}`,
	`{"id":"a"}`,
	`{"type":"OPEN"}`,
	`[{"id":"a","type":"OPEN"}]`,
	`"x"`,
	``,
	`{"id":"a","type":"OPEN","device":{"channel":"c"}`,
	`{"id":"a","type":"OPEN","device":{"channel":"c\x"}}`,
}

// peekCorpus is every event PeekKeys is checked on: the eventgen corpus
// (every known type, with the generator's legacy and mixed-case devices,
// unicode and escapes), the golden test events, the fuzz seeds and
// peekCases.
func peekCorpus(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for seed := range int64(4) {
		g := eventgen.New(seed)
		for range 5000 {
			out = append(out, g.Next())
		}
	}
	for _, data := range inputs(t) {
		out = append(out, data)
	}
	for _, s := range peekCases {
		out = append(out, []byte(s))
	}
	return out
}

// checkPeek checks PeekKeys against Decode on data: the same id, type,
// channel and named user when Decode succeeds, and an error of Decode's
// kind when PeekKeys fails.
func checkPeek(t *testing.T, data []byte) {
	t.Helper()
	k, perr := event.PeekKeys(data)
	e, derr := event.Decode(data)
	if perr != nil {
		var de *event.DecodeError
		if !errors.As(perr, &de) {
			t.Fatalf("PeekKeys(%q): error %v (%T) is not a *DecodeError", data, perr, perr)
		}
		if derr == nil {
			t.Fatalf("PeekKeys(%q) failed (%v) where Decode succeeded", data, perr)
		}
		return
	}
	if derr != nil {
		return // Decode also checks the members PeekKeys skips
	}
	b := e.Base()
	want := event.Keys{ID: b.ID, Type: e.EventType(), ChannelID: b.ChannelID(), NamedUserID: b.NamedUserID()}
	if k != want {
		t.Fatalf("PeekKeys(%q) = %+v, Decode gives %+v", data, k, want)
	}
}

func TestPeekKeysMatchesDecode(t *testing.T) {
	corpus := peekCorpus(t)
	for _, data := range corpus {
		checkPeek(t, data)
	}
	// Every resolution rule is exercised: the corpus has events whose
	// channel is only platform-keyed, and named users from both sources.
	var legacy, devNamed, userNamed, none int
	for _, data := range corpus {
		e, err := event.Decode(data)
		if err != nil {
			continue
		}
		b := e.Base()
		switch {
		case b.Device == nil || b.ChannelID() == "":
			none++
		case b.Device.Channel == "":
			legacy++
		}
		if b.Device != nil && b.Device.NamedUserID != "" {
			devNamed++
		} else if b.NamedUserID() != "" {
			userNamed++
		}
	}
	if legacy == 0 || devNamed == 0 || none == 0 {
		t.Errorf("corpus lacks cases: %d platform-keyed channels, %d device named users, %d without channel", legacy, devNamed, none)
	}
	t.Logf("%d events: %d platform-keyed channels, %d device named users, %d user named users, %d without channel",
		len(corpus), legacy, devNamed, userNamed, none)
}

// TestPeekKeysErrors checks that PeekKeys reports what Decode reports for
// the members it reads.
func TestPeekKeysErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{`{"id":"a"}`, event.ErrMissingField},
		{`{"type":"OPEN"}`, event.ErrMissingField},
		{`{"id":"","type":"OPEN"}`, event.ErrMissingField},
		{`{"id":7,"type":"OPEN"}`, event.ErrInvalidField},
		{`not json`, event.ErrSyntax},
		{`{"id":"a","type":"OPEN","x":[1,}`, event.ErrSyntax},
		{`{"id":"a","type":"OPEN"} {}`, event.ErrSyntax},
		{`[1]`, event.ErrNotObject},
	} {
		_, err := event.PeekKeys([]byte(tc.in))
		if !errors.Is(err, tc.want) {
			t.Errorf("PeekKeys(%s): %v, want %v", tc.in, err, tc.want)
		}
		_, derr := event.Decode([]byte(tc.in))
		if err != nil && derr != nil && err.Error() != derr.Error() {
			t.Errorf("PeekKeys(%s): %v, Decode: %v", tc.in, err, derr)
		}
	}
}

// TestPeekKeysAllocs checks that PeekKeys allocates nothing on the
// eventgen corpus, whose ids, types, channels and named users have no
// escapes.
func TestPeekKeysAllocs(t *testing.T) {
	var events [][]byte
	g := eventgen.New(7)
	for range 500 {
		events = append(events, g.Next())
	}
	i := 0
	allocs := testing.AllocsPerRun(len(events), func() {
		if _, err := event.PeekKeys(events[i%len(events)]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("PeekKeys: %v allocations per event, want 0", allocs)
	}
}

// FuzzPeekKeys checks PeekKeys against Decode on arbitrary input (see
// checkPeek).
func FuzzPeekKeys(f *testing.F) {
	for _, data := range inputs(f) {
		f.Add(data)
	}
	for _, s := range peekCases {
		f.Add([]byte(s))
	}
	g := eventgen.New(3)
	for range 50 {
		f.Add(g.Next())
	}
	f.Fuzz(checkPeek)
}

func ExamplePeekKeys() {
	line := []byte(`{"id":"e1","type":"OPEN","device":{"ios_channel":"c1","named_user_id":"u1"},"body":{"session_id":"s"}}`)
	k, err := event.PeekKeys(line)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(k.ID, k.Type, k.ChannelID, k.NamedUserID)
	// Output: e1 OPEN c1 u1
}

// BenchmarkPeekKeys compares PeekKeys with Decode on the eventgen corpus,
// side by side: the cost of finding an event's keys with and without
// decoding it.
func BenchmarkPeekKeys(b *testing.B) {
	g := eventgen.New(1)
	var events [][]byte
	var total int64
	for range 2000 {
		data := g.Next()
		events = append(events, data)
		total += int64(len(data))
	}
	b.Run("peek", func(b *testing.B) {
		b.SetBytes(total / int64(len(events)))
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := event.PeekKeys(events[i%len(events)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(total / int64(len(events)))
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			e, err := event.Decode(events[i%len(events)])
			if err != nil {
				b.Fatal(err)
			}
			_ = e.Base().ChannelID()
		}
	})
}
