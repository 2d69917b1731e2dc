package event

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth is the deepest nesting accepted, as in encoding/json.
const maxDepth = 10000

// errMismatch reports, inside the decoder, that a member's JSON value does
// not have the type its Go field expects. The caller rewinds and keeps the
// member in the Extra map instead; it never reaches users.
var errMismatch = errors.New("type mismatch")

// decoder is a single-pass JSON scanner over a buffer the decoder owns. It
// never modifies data, so strings without escapes are views of it
// (zero-copy) and raw values are subslices of it.
type decoder struct {
	data  []byte
	pos   int
	depth int
}

// view returns b as a string without copying. b must never be modified.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// substr returns data[start:end] as a string without copying, for
// 0 <= start <= end <= len(data) and start < len(data), unchecked (the
// pointer must stay inside data, even for an empty string). data must never
// be modified.
func substr(data []byte, start, end int) string {
	return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(data)), start)), end-start)
}

func (d *decoder) syntaxError(format string, args ...any) error {
	return &DecodeError{Offset: d.pos, Err: fmt.Errorf("%w: "+format, append([]any{ErrSyntax}, args...)...)}
}

func (d *decoder) unexpected(context string) error {
	if d.pos >= len(d.data) {
		return d.syntaxError("unexpected end of input %s", context)
	}
	return d.syntaxError("invalid character %s %s", quoteChar(d.data[d.pos]), context)
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(c))
	return "'" + s[1:len(s)-1] + "'"
}

// ws skips white space and returns the next byte, or 0 at the end (check
// d.pos to tell the end from a NUL byte).
func (d *decoder) ws() byte {
	data := d.data
	// Compact JSON has no white space: settle the common case with one
	// comparison.
	if i := d.pos; i < len(data) && data[i] > ' ' {
		return data[i]
	}
	for i := d.pos; i < len(data); i++ {
		switch c := data[i]; c {
		case ' ', '\t', '\n', '\r':
		default:
			d.pos = i
			return c
		}
	}
	d.pos = len(data)
	return 0
}

// openObject consumes '{'. It returns errMismatch (consuming nothing) when the
// next value is not an object.
func (d *decoder) openObject() error {
	if d.ws() != '{' {
		if d.pos >= len(d.data) {
			return d.unexpected("looking for beginning of value")
		}
		return errMismatch
	}
	d.depth++
	if d.depth > maxDepth {
		return d.syntaxError("exceeded max depth")
	}
	d.pos++
	return nil
}

// nextKey reads the next member name of the object opened by openObject and
// the ':' after it. first says whether no member was read yet. ok is false at
// the closing '}', which it consumes.
func (d *decoder) nextKey(first bool) (key string, ok bool, err error) {
	c := d.ws()
	if c == '}' {
		d.pos++
		d.depth--
		return "", false, nil
	}
	if !first {
		if c != ',' {
			return "", false, d.unexpected("after object key:value pair")
		}
		d.pos++
		c = d.ws()
	}
	if c != '"' {
		return "", false, d.unexpected("looking for beginning of object key string")
	}
	key, err = d.readString()
	if err != nil {
		return "", false, err
	}
	// Compact JSON: the ':' and the value follow the key directly.
	if p := d.pos; p+1 < len(d.data) && d.data[p] == ':' && d.data[p+1] > ' ' {
		d.pos = p + 1
		return key, true, nil
	}
	if d.ws() != ':' {
		return "", false, d.unexpected("after object key")
	}
	d.pos++
	if d.ws(); d.pos >= len(d.data) {
		return "", false, d.unexpected("looking for beginning of value")
	}
	return key, true, nil
}

// openArray consumes '['; errMismatch if the next value is not an array.
func (d *decoder) openArray() error {
	if d.ws() != '[' {
		if d.pos >= len(d.data) {
			return d.unexpected("looking for beginning of value")
		}
		return errMismatch
	}
	d.depth++
	if d.depth > maxDepth {
		return d.syntaxError("exceeded max depth")
	}
	d.pos++
	return nil
}

// nextElem positions at the next array element; ok is false at the closing
// ']', which it consumes.
func (d *decoder) nextElem(first bool) (ok bool, err error) {
	c := d.ws()
	if c == ']' && first {
		d.pos++
		d.depth--
		return false, nil
	}
	if !first {
		if c == ']' {
			d.pos++
			d.depth--
			return false, nil
		}
		if c != ',' {
			return false, d.unexpected("after array element")
		}
		d.pos++
		d.ws()
	}
	if d.pos >= len(d.data) {
		return false, d.unexpected("looking for beginning of value")
	}
	return true, nil
}

// readString reads the JSON string at d.pos (a '"'). Strings without escapes
// and with valid UTF-8 are views of the buffer.
func (d *decoder) readString() (string, error) {
	data := d.data
	start := d.pos + 1
	i := start
	// Eight bytes at a time while none needs attention: '"', '\\', a
	// control character or a non-ASCII byte.
	for ; i+8 <= len(data); i += 8 {
		if m := special(binary.LittleEndian.Uint64(data[i:])); m != 0 {
			i += bits.TrailingZeros64(m) >> 3
			if data[i] == '"' {
				d.pos = i + 1
				return substr(data, start, i), nil
			}
			return d.readStringSlow(start, i)
		}
	}
	for ; i < len(data); i++ {
		c := data[i]
		if c == '"' {
			d.pos = i + 1
			return substr(data, start, i), nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return d.readStringSlow(start, i)
		}
	}
	d.pos = len(data)
	return "", d.unexpected("in string literal")
}

const (
	lowBits     = 0x0101010101010101
	highBits    = 0x8080808080808080
	quotes      = '"' * lowBits
	backslashes = '\\' * lowBits
)

// special has the high bit set in the bytes of w that a string scan must
// look at: '"', '\\', control characters and bytes of non-ASCII text (it
// may also flag bytes after such a byte, but never one before it, so the
// lowest flagged byte is the first to look at). It is zero exactly when w
// has none: the has-less and two has-zero word tests and the high-bit test
// folded into one branch.
func special(w uint64) uint64 {
	q, bs := w^quotes, w^backslashes
	return ((w-0x20*lowBits)&^w | (q-lowBits)&^q | (bs-lowBits)&^bs | w) & highBits
}

// readStringSlow handles escapes, control characters and non-ASCII text
// from i on, exactly as encoding/json does: invalid UTF-8 and lone
// surrogates become U+FFFD.
func (d *decoder) readStringSlow(start, i int) (string, error) {
	return d.stringTail(start, i, true)
}

// skipString skips the JSON string at d.pos (a '"'), validating it as
// readString does without decoding it.
func (d *decoder) skipString() error {
	data := d.data
	start := d.pos + 1
	i := start
	for ; i+8 <= len(data); i += 8 {
		if m := special(binary.LittleEndian.Uint64(data[i:])); m != 0 {
			i += bits.TrailingZeros64(m) >> 3
			break
		}
	}
	for ; i < len(data); i++ {
		if c := data[i]; c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	if i < len(data) && data[i] == '"' {
		d.pos = i + 1
		return nil
	}
	_, err := d.stringTail(start, i, false)
	return err
}

// stringTail scans the rest of a string from i on; if decode, it returns
// the decoded string.
func (d *decoder) stringTail(start, i int, decode bool) (string, error) {
	data := d.data
	// First find the end and whether a rewrite is needed.
	clean := true
	for j := i; ; {
		if j >= len(data) {
			d.pos = len(data)
			return "", d.unexpected("in string literal")
		}
		c := data[j]
		switch {
		case c == '"':
			if clean || !decode {
				d.pos = j + 1
				return view(data[start:j]), nil
			}
			s, err := d.unquote(start, j)
			if err != nil {
				return "", err
			}
			d.pos = j + 1
			return s, nil
		case c == '\\':
			clean = false
			if j+1 >= len(data) {
				d.pos = len(data)
				return "", d.unexpected("in string escape code")
			}
			switch data[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				for k := 2; k < 6; k++ {
					if j+k >= len(data) {
						d.pos = len(data)
						return "", d.unexpected("in \\u hexadecimal character escape")
					}
					if !isHex(data[j+k]) {
						d.pos = j + k
						return "", d.unexpected("in \\u hexadecimal character escape")
					}
				}
				j += 6
			default:
				d.pos = j + 1
				return "", d.unexpected("in string escape code")
			}
		case c < 0x20:
			d.pos = j
			return "", d.unexpected("in string literal")
		case c < utf8.RuneSelf:
			j++
		default:
			r, size := utf8.DecodeRune(data[j:])
			if r == utf8.RuneError && size == 1 {
				clean = false
			}
			j += size
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	r, err := strconv.ParseUint(string(s[2:6]), 16, 64)
	if err != nil {
		return -1
	}
	return rune(r)
}

// unquote decodes the validated string body data[start:end], following
// encoding/json's unquoteBytes.
func (d *decoder) unquote(start, end int) (string, error) {
	s := d.data[start:end]
	b := make([]byte, 0, len(s)+2*utf8.UTFMax)
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch s[r+1] {
			case '"', '\\', '/', '\'':
				b = append(b, s[r+1])
				r += 2
			case 'b':
				b = append(b, '\b')
				r += 2
			case 'f':
				b = append(b, '\f')
				r += 2
			case 'n':
				b = append(b, '\n')
				r += 2
			case 'r':
				b = append(b, '\r')
				r += 2
			case 't':
				b = append(b, '\t')
				r += 2
			case 'u':
				rr := getu4(s[r:])
				r += 6
				if utf16.IsSurrogate(rr) {
					rr1 := getu4(s[r:])
					if dec := utf16.DecodeRune(rr, rr1); dec != unicode.ReplacementChar {
						r += 6
						b = utf8.AppendRune(b, dec)
						break
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			b = utf8.AppendRune(b, rr)
		}
	}
	return string(b), nil
}

// number scans a JSON number at d.pos and returns its text.
func (d *decoder) number() (string, error) {
	data := d.data
	i := d.pos
	start := i
	if i < len(data) && data[i] == '-' {
		i++
	}
	if i >= len(data) {
		d.pos = i
		return "", d.unexpected("in numeric literal")
	}
	switch c := data[i]; {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		i++
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	default:
		d.pos = i
		return "", d.unexpected("in numeric literal")
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			d.pos = i
			return "", d.unexpected("after decimal point in numeric literal")
		}
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			d.pos = i
			return "", d.unexpected("in exponent of numeric literal")
		}
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	d.pos = i
	return view(data[start:i]), nil
}

// literal consumes the literal lit (true, false or null) at d.pos.
func (d *decoder) literal(lit string) error {
	data := d.data
	for k := 0; k < len(lit); k++ {
		if d.pos+k >= len(data) || data[d.pos+k] != lit[k] {
			d.pos += k
			return d.unexpected("in literal " + lit + " (expecting " + quoteChar(lit[k]) + ")")
		}
	}
	d.pos += len(lit)
	return nil
}

// skip validates and skips the value at d.pos, returning its raw bytes.
func (d *decoder) skip() ([]byte, error) {
	start := d.pos
	if err := d.skipValue(); err != nil {
		return nil, err
	}
	return d.data[start:d.pos:d.pos], nil
}

func (d *decoder) skipValue() error {
	switch c := d.ws(); {
	case c == '"':
		return d.skipString()
	case c == '{':
		if err := d.openObject(); err != nil {
			return err
		}
		for first := true; ; first = false {
			_, ok, err := d.nextKey(first)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			if err := d.skipValue(); err != nil {
				return err
			}
		}
	case c == '[':
		if err := d.openArray(); err != nil {
			return err
		}
		for first := true; ; first = false {
			ok, err := d.nextElem(first)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			if err := d.skipValue(); err != nil {
				return err
			}
		}
	case c == '-' || '0' <= c && c <= '9':
		_, err := d.number()
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	default:
		return d.unexpected("looking for beginning of value")
	}
}

// unsafeBytes returns s as a byte slice without copying; it must not be
// modified.
func unsafeBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
