package eventgen

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzAppendString checks the hand-rolled string encoder against
// encoding/json: every valid UTF-8 string round-trips.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `quo"te`, `back\slash`, "tab\tnew\nline\r", "\x00\x1f\x7f", "café, \"ñandú\" 東京 💌", "\u2028\u2029"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // the generator only writes valid UTF-8
		}
		b := appendString([]byte("x"), s)
		if b[0] != 'x' {
			t.Fatalf("prefix overwritten: %q", b)
		}
		var got string
		if err := json.Unmarshal(b[1:], &got); err != nil {
			t.Fatalf("appendString(%q) = %s: %v", s, b[1:], err)
		}
		if got != s {
			t.Fatalf("appendString(%q) decodes to %q", s, got)
		}
	})
}

func TestAppendTime(t *testing.T) {
	ms := time.Date(2015, 11, 18, 1, 21, 33, 180e6, time.UTC).UnixMilli()
	tests := []struct {
		name    string
		reason  string
		seconds bool
		want    string
	}{
		{name: "millis", reason: "three fractional digits, trailing zero kept", want: `"2015-11-18T01:21:33.180Z"`},
		{name: "seconds", reason: "no fraction", seconds: true, want: `"2015-11-18T01:21:33Z"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendTime(nil, ms, tc.seconds)); got != tc.want {
				t.Errorf("%s: got %s, want %s", tc.reason, got, tc.want)
			}
		})
	}
}

func TestMembersAreSeparated(t *testing.T) {
	b := []byte{'{'}
	b = str(b, "a", "x")
	b = integer(b, "b", -3)
	b = float(b, "c", 1.5, true)
	b = append(key(b, "d"), '[')
	b = appendString(elem(b), "p")
	b = appendString(elem(b), "q")
	b = append(b, ']')
	b = append(key(b, "e"), '{')
	b = boolean(b, "f", true)
	b = append(b, '}', '}')
	want := `{"a":"x","b":-3,"c":"1.5","d":["p","q"],"e":{"f":true}}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}
