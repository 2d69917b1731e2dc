package wire

import (
	"slices"
	"unicode/utf8"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/segmentio/asm/base64"
)

const hexDigits = "0123456789abcdef"

// safe reports whether an ASCII byte is written as itself in a JSON
// string by the SDK's serializer.
func safe(c byte) bool { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' }

// quotedLen is the length of appendString(nil, v).
func quotedLen(v string) int {
	n := 2
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			switch {
			case safe(c):
				n++
			case c == '\\', c == '"', c == '\n', c == '\r', c == '\t':
				n += 2
			default:
				n += 6
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(v[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += len("\ufffd")
		case r == '\u2028' || r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

// appendString appends v as a JSON string, byte for byte as the SDK's
// serializer writes it (invalid UTF-8 becomes U+FFFD; DEL, U+2028 and
// U+2029 are escaped).
func appendString(b []byte, v string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if safe(c) {
				i++
				continue
			}
			b = append(b, v[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, v[start:i]...)
			b = append(b, "\ufffd"...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, v[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, v[start:]...)
	return append(b, '"')
}

// putRecordsLen is the exact length of encodePutRecords' output.
func putRecordsLen(in *sdkkinesis.PutRecordsInput) int {
	n := 2 // {}
	fields := 0
	if in.DryRun != nil {
		fields++
		n += len(`"DryRun":true`)
		if !*in.DryRun {
			n++
		}
	}
	if in.Records != nil {
		fields++
		n += len(`"Records":[]`)
		if len(in.Records) > 1 {
			n += len(in.Records) - 1
		}
		for i := range in.Records {
			e := &in.Records[i]
			n += 2
			ef := 0
			if e.Data != nil {
				ef++
				n += len(`"Data":""`) + base64.StdEncoding.EncodedLen(len(e.Data))
			}
			if e.ExplicitHashKey != nil {
				ef++
				n += len(`"ExplicitHashKey":`) + quotedLen(*e.ExplicitHashKey)
			}
			if e.PartitionKey != nil {
				ef++
				n += len(`"PartitionKey":`) + quotedLen(*e.PartitionKey)
			}
			if ef > 1 {
				n += ef - 1
			}
		}
	}
	if in.StreamARN != nil {
		fields++
		n += len(`"StreamARN":`) + quotedLen(*in.StreamARN)
	}
	if in.StreamId != nil {
		fields++
		n += len(`"StreamId":`) + quotedLen(*in.StreamId)
	}
	if in.StreamName != nil {
		fields++
		n += len(`"StreamName":`) + quotedLen(*in.StreamName)
	}
	if fields > 1 {
		n += fields - 1
	}
	return n
}

// encodePutRecords appends a PutRecords request body to b, byte for byte
// as the SDK's awsJson1.1 serializer does: each entry's data is
// base64-encoded straight into it. Given room for putRecordsLen(in) bytes,
// it allocates nothing.
func encodePutRecords(b []byte, in *sdkkinesis.PutRecordsInput) []byte {
	b = append(b, '{')
	sep := false
	field := func(name string) {
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, name...)
	}
	if in.DryRun != nil {
		field(`"DryRun":`)
		if *in.DryRun {
			b = append(b, "true"...)
		} else {
			b = append(b, "false"...)
		}
	}
	if in.Records != nil {
		field(`"Records":[`)
		for i := range in.Records {
			e := &in.Records[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			esep := false
			if e.Data != nil {
				esep = true
				b = append(b, `"Data":"`...)
				n, m := len(b), base64.StdEncoding.EncodedLen(len(e.Data))
				b = slices.Grow(b, m)[:n+m] // no clearing of what Encode overwrites
				base64.StdEncoding.Encode(b[n:], e.Data)
				b = append(b, '"')
			}
			if e.ExplicitHashKey != nil {
				if esep {
					b = append(b, ',')
				}
				esep = true
				b = append(b, `"ExplicitHashKey":`...)
				b = appendString(b, *e.ExplicitHashKey)
			}
			if e.PartitionKey != nil {
				if esep {
					b = append(b, ',')
				}
				b = append(b, `"PartitionKey":`...)
				b = appendString(b, *e.PartitionKey)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if in.StreamARN != nil {
		field(`"StreamARN":`)
		b = appendString(b, *in.StreamARN)
	}
	if in.StreamId != nil {
		field(`"StreamId":`)
		b = appendString(b, *in.StreamId)
	}
	if in.StreamName != nil {
		field(`"StreamName":`)
		b = appendString(b, *in.StreamName)
	}
	return append(b, '}')
}
