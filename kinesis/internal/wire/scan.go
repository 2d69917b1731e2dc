package wire

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is a strict, allocation-free JSON scanner over one response
// body. It accepts no more than the SDK's own parser does: whenever it
// fails, the caller hands the body to the SDK's codec, which produces the
// canonical result or error. So the scanner never needs error messages.
type scanner struct {
	b []byte
	i int
}

// maxSkipDepth bounds the nesting of unknown values the scanner skips (the
// SDK's parser allows 10,000; deeper values fall back to it).
const maxSkipDepth = 256

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte, 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// eat consumes c if it is the next byte after white space.
func (s *scanner) eat(c byte) bool {
	if s.peek() != c {
		return false
	}
	s.i++
	return true
}

// null consumes a null literal if it is next.
func (s *scanner) null() bool {
	if s.peek() == 'n' && s.i+4 <= len(s.b) && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

const (
	lo8 = uint64(0x0101010101010101)
	hi8 = uint64(0x8080808080808080)
)

// special reports whether any of the 8 bytes of v is '"', '\\' or below
// 0x20 (the bytes that end the fast path of a JSON string).
func special(v uint64) bool {
	q := v ^ (lo8 * '"')
	bs := v ^ (lo8 * '\\')
	return ((q-lo8)&^q|(bs-lo8)&^bs|(v-lo8*0x20)&^v)&hi8 != 0
}

// str scans the string starting at the next byte. It returns the bounds of
// its raw content and whether that contains escapes; ok is false if the
// next value is not a valid JSON string.
func (s *scanner) str() (start, end int, esc, ok bool) {
	if s.peek() != '"' {
		return 0, 0, false, false
	}
	b := s.b
	i := s.i + 1
	start = i
	for {
		for i+8 <= len(b) && !special(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i >= len(b) {
			return 0, 0, false, false
		}
		c := b[i]
		switch {
		case c == '"':
			s.i = i + 1
			return start, i, esc, true
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return 0, 0, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || hex4(b[i+2:i+6]) < 0 {
					return 0, 0, false, false
				}
				i += 6
			default:
				return 0, 0, false, false
			}
		case c < 0x20:
			return 0, 0, false, false
		default:
			i++
		}
	}
}

// b64str scans a string expected to hold base64: the closing quote, a
// backslash and the line breaks that base64 decoding would skip are found
// with bytes.IndexByte (vectorized); any other byte JSON forbids in a
// string is a control character, which base64 decoding rejects later. A
// string with a backslash or line break takes str's full validation.
func (s *scanner) b64str() (start, end int, esc, ok bool) {
	if s.peek() != '"' {
		return 0, 0, false, false
	}
	start = s.i + 1
	q := bytes.IndexByte(s.b[start:], '"')
	if q < 0 {
		return 0, 0, false, false
	}
	seg := s.b[start : start+q]
	if bytes.IndexByte(seg, '\\') >= 0 || bytes.IndexByte(seg, '\n') >= 0 || bytes.IndexByte(seg, '\r') >= 0 {
		return s.str()
	}
	s.i = start + q + 1
	return start, start + q, false, true
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// unescape appends the unquoted form of the raw string content raw (which
// str validated) to dst, exactly as the SDK's unquoting does: invalid UTF-8
// and unpaired surrogates become U+FFFD.
func unescape(dst, raw []byte) []byte {
	for r := 0; r < len(raw); {
		c := raw[r]
		switch {
		case c == '\\':
			switch raw[r+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				rr := hex4(raw[r+2:])
				r += 6
				if utf16.IsSurrogate(rr) {
					if r+6 <= len(raw) && raw[r] == '\\' && raw[r+1] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(raw[r+2:])); dec != unicode.ReplacementChar {
							r += 6
							dst = utf8.AppendRune(dst, dec)
							continue
						}
					}
					rr = unicode.ReplacementChar
				}
				dst = utf8.AppendRune(dst, rr)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, raw[r+1])
			}
			r += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			r++
		default:
			rr, size := utf8.DecodeRune(raw[r:])
			r += size
			dst = utf8.AppendRune(dst, rr)
		}
	}
	return dst
}

// number scans a number with the SDK parser's grammar and returns it.
func (s *scanner) number() ([]byte, bool) {
	s.ws()
	b := s.b
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	d := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == d || (b[d] == '0' && i-d > 1) {
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d = i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d = i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false
		}
	}
	tok := b[s.i:i]
	s.i = i
	return tok, true
}

// parseInt parses a plain decimal integer as the SDK does (no fraction, no
// exponent, within int64).
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

// parseFloat parses a JSON number as the SDK's readFloat does.
func parseFloat(tok []byte) (float64, bool) {
	if n, ok := parseInt(tok); ok {
		return float64(n), true
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	return f, err == nil
}

// skip skips one value of any kind, validating it.
func (s *scanner) skip(depth int) bool {
	if depth > maxSkipDepth {
		return false
	}
	switch s.peek() {
	case '"':
		_, _, _, ok := s.str()
		return ok
	case '{':
		s.i++
		if s.eat('}') {
			return true
		}
		for {
			if _, _, _, ok := s.str(); !ok || !s.eat(':') || !s.skip(depth+1) {
				return false
			}
			if s.eat(',') {
				continue
			}
			return s.eat('}')
		}
	case '[':
		s.i++
		if s.eat(']') {
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			if s.eat(',') {
				continue
			}
			return s.eat(']')
		}
	case 't':
		return s.lit("true")
	case 'f':
		return s.lit("false")
	case 'n':
		return s.lit("null")
	default:
		_, ok := s.number()
		return ok
	}
}

func (s *scanner) lit(l string) bool {
	if s.i+len(l) <= len(s.b) && string(s.b[s.i:s.i+len(l)]) == l {
		s.i += len(l)
		return true
	}
	return false
}

// key scans an object member name followed by ':'. Names with escapes are
// refused (the caller falls back to the SDK, which matches them).
func (s *scanner) key() ([]byte, bool) {
	start, end, esc, ok := s.str()
	if !ok || esc || !s.eat(':') {
		return nil, false
	}
	return s.b[start:end], true
}

// object calls member for each member of the object that is next, until
// member returns false or the object ends. It reports whether the object
// was read completely.
func (s *scanner) object(member func(key []byte) bool) bool {
	if !s.eat('{') {
		return false
	}
	if s.eat('}') {
		return true
	}
	for {
		k, ok := s.key()
		if !ok || !member(k) {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat('}')
	}
}

// array calls elem for each element of the array that is next.
func (s *scanner) array(elem func() bool) bool {
	if !s.eat('[') {
		return false
	}
	if s.eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat(']')
	}
}
