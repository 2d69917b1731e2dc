package eventgen

import (
	"strconv"
	"time"
)

// A tiny JSON appender. Members are written with key, which inserts the
// comma separator itself: the previous byte tells whether the member is the
// first of its object or array.

const hexDigits = "0123456789abcdef"

// sep appends a comma unless b ends an opening bracket or a key's colon.
func sep(b []byte) []byte {
	if n := len(b); n > 0 {
		switch b[n-1] {
		case '{', '[', ':':
			return b
		}
	}
	return append(b, ',')
}

// key appends a member name (which must need no escaping) and its colon.
func key(b []byte, k string) []byte {
	b = sep(b)
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

// str appends the member k with the string value v.
func str(b []byte, k, v string) []byte {
	return appendString(key(b, k), v)
}

// integer appends the member k with the integer value v.
func integer(b []byte, k string, v int64) []byte {
	return strconv.AppendInt(key(b, k), v, 10)
}

// boolean appends the member k with a JSON boolean.
func boolean(b []byte, k string, v bool) []byte {
	return strconv.AppendBool(key(b, k), v)
}

// float appends the member k with a JSON number, or with the number as a
// JSON string when quoted is set (the wire sends both).
func float(b []byte, k string, v float64, quoted bool) []byte {
	b = key(b, k)
	if quoted {
		b = append(b, '"')
	}
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	if quoted {
		b = append(b, '"')
	}
	return b
}

// numString appends the member k with an integer as a JSON number, or as a
// JSON string when quoted is set.
func numString(b []byte, k string, v int64, quoted bool) []byte {
	b = key(b, k)
	if quoted {
		b = append(b, '"')
	}
	b = strconv.AppendInt(b, v, 10)
	if quoted {
		b = append(b, '"')
	}
	return b
}

// elem appends an array element separator.
func elem(b []byte) []byte { return sep(b) }

// appendString appends s as a JSON string. s must be valid UTF-8 (the
// generator's vocabulary is); control characters, quotes and backslashes
// are escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const (
	layoutMillis  = "2006-01-02T15:04:05.000Z07:00"
	layoutSeconds = "2006-01-02T15:04:05Z07:00"
)

// appendTime appends ms (Unix milliseconds) as an RFC 3339 UTC timestamp,
// with three fractional digits or, when seconds is set, none.
func appendTime(b []byte, ms int64, seconds bool) []byte {
	b = append(b, '"')
	t := time.UnixMilli(ms).UTC()
	if seconds {
		b = t.AppendFormat(b, layoutSeconds)
	} else {
		b = t.AppendFormat(b, layoutMillis)
	}
	return append(b, '"')
}

// appendHex appends the low n hex digits of v.
func appendHex(b []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, hexDigits[(v>>(uint(i)*4))&0xf])
	}
	return b
}

// appendUUID appends hi and lo as a UUID-shaped string (8-4-4-4-12) with
// the version and variant bits of a version-4 UUID.
func appendUUID(b []byte, hi, lo uint64) []byte {
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	b = appendHex(b, hi>>32, 8)
	b = append(b, '-')
	b = appendHex(b, hi>>16, 4)
	b = append(b, '-')
	b = appendHex(b, hi, 4)
	b = append(b, '-')
	b = appendHex(b, lo>>48, 4)
	b = append(b, '-')
	return appendHex(b, lo, 12)
}
