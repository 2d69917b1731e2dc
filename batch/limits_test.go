package batch

import (
	"errors"
	"strings"
	"testing"
)

func TestLimitsValidate(t *testing.T) {
	const mib = 1 << 20
	key256 := strings.Repeat("é", 256) // 256 characters (UTF-16 code units), 512 bytes
	tests := []struct {
		name   string
		reason string
		limits Limits
		rec    Record
		want   error
		size   int // LimitError.Size when want is set
	}{
		{name: "record at limit", reason: "data + key exactly 1 MiB is allowed",
			limits: DefaultLimits(), rec: Record{PartitionKey: "k", Data: make([]byte, mib-1)}},
		{name: "record one byte over", reason: "the key counts toward the record limit",
			limits: DefaultLimits(), rec: Record{PartitionKey: "kk", Data: make([]byte, mib-1)}, want: ErrRecordTooLarge, size: mib + 1},
		{name: "multibyte key counts bytes", reason: "the limit is in bytes of UTF-8",
			limits: DefaultLimits(), rec: Record{PartitionKey: key256, Data: make([]byte, mib-511)}, want: ErrRecordTooLarge, size: mib + 1},
		{name: "large record at limit", reason: "large-record streams take 10 MiB",
			limits: LargeRecordLimits(), rec: Record{PartitionKey: "k", Data: make([]byte, 10*mib-1)}},
		{name: "large record one byte over",
			limits: LargeRecordLimits(), rec: Record{PartitionKey: "k", Data: make([]byte, 10*mib)}, want: ErrRecordTooLarge, size: 10*mib + 1},
		{name: "empty data", reason: "Kinesis accepts empty data",
			limits: DefaultLimits(), rec: Record{PartitionKey: "k"}},
		{name: "key of 1 character", limits: DefaultLimits(), rec: Record{PartitionKey: "k"}},
		{name: "empty key", reason: "at least one character",
			limits: DefaultLimits(), rec: Record{}, want: ErrInvalidPartitionKey, size: 0},
		{name: "key of 256 characters", limits: DefaultLimits(), rec: Record{PartitionKey: key256}},
		{name: "key of 256 ASCII characters", limits: DefaultLimits(), rec: Record{PartitionKey: strings.Repeat("a", 256)}},
		{name: "key of 257 characters", reason: "characters, not bytes, are counted",
			limits: DefaultLimits(), rec: Record{PartitionKey: key256 + "a"}, want: ErrInvalidPartitionKey, size: 257},
		{name: "key of 257 ASCII characters",
			limits: DefaultLimits(), rec: Record{PartitionKey: strings.Repeat("a", 257)}, want: ErrInvalidPartitionKey, size: 257},
		{name: "key of 128 emoji", reason: "an emoji is two UTF-16 code units: 256 in all",
			limits: DefaultLimits(), rec: Record{PartitionKey: strings.Repeat("😀", 128)}},
		{name: "key of 129 emoji", reason: "258 UTF-16 code units, though only 129 runes",
			limits: DefaultLimits(), rec: Record{PartitionKey: strings.Repeat("😀", 129)}, want: ErrInvalidPartitionKey, size: 258},
		{name: "key of 255 characters and an emoji", reason: "257 UTF-16 code units",
			limits: DefaultLimits(), rec: Record{PartitionKey: strings.Repeat("é", 255) + "😀"}, want: ErrInvalidPartitionKey, size: 257},
		{name: "key not UTF-8", reason: "Kinesis keys are Unicode strings",
			limits: DefaultLimits(), rec: Record{PartitionKey: "a\xffb"}, want: ErrInvalidPartitionKey, size: 3},
		{name: "hash key 0", limits: DefaultLimits(), rec: Record{PartitionKey: "k", ExplicitHashKey: "0"}},
		{name: "hash key 2^128-1", limits: DefaultLimits(),
			rec: Record{PartitionKey: "k", ExplicitHashKey: "340282366920938463463374607431768211455"}},
		{name: "hash key 2^128", reason: "one over the largest",
			limits: DefaultLimits(), rec: Record{PartitionKey: "k", ExplicitHashKey: "340282366920938463463374607431768211456"},
			want: ErrInvalidExplicitHashKey, size: 39},
		{name: "hash key negative", limits: DefaultLimits(), rec: Record{PartitionKey: "k", ExplicitHashKey: "-1"},
			want: ErrInvalidExplicitHashKey, size: 2},
		{name: "hash key with a leading zero", reason: "the API's pattern is 0|([1-9]\\d{0,38})",
			limits: DefaultLimits(), rec: Record{PartitionKey: "k", ExplicitHashKey: "01"}, want: ErrInvalidExplicitHashKey, size: 2},
		{name: "hash key not decimal", limits: DefaultLimits(), rec: Record{PartitionKey: "k", ExplicitHashKey: "0x10"},
			want: ErrInvalidExplicitHashKey, size: 4},
		{name: "explicit hash key does not count", reason: "only data and partition key count",
			limits: DefaultLimits(), rec: Record{PartitionKey: "k", ExplicitHashKey: "12345", Data: make([]byte, mib-1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.limits.Validate(tt.rec)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v, want nil (%s)", err, tt.reason)
				}
				n, err := tt.limits.Size(tt.rec)
				if err != nil || n != len(tt.rec.Data)+len(tt.rec.PartitionKey) {
					t.Fatalf("Size = %d, %v", n, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate: %v, want %v (%s)", err, tt.want, tt.reason)
			}
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("Validate: %T, want *LimitError", err)
			}
			if le.Size != tt.size {
				t.Errorf("LimitError.Size = %d, want %d", le.Size, tt.size)
			}
			if !strings.HasPrefix(err.Error(), "batch: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestLimitErrorMessage(t *testing.T) {
	err := DefaultLimits().Validate(Record{PartitionKey: "ab", Data: make([]byte, 1<<20)})
	want := "batch: record too large: 1048578 bytes of data and partition key, over the 1048576-byte record limit"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestLimitsCheck(t *testing.T) {
	tests := []struct {
		name string
		l    Limits
		ok   bool
	}{
		{name: "default", l: DefaultLimits(), ok: true},
		{name: "large", l: LargeRecordLimits(), ok: true},
		{name: "zero", l: Limits{}},
		{name: "501 records", l: Limits{MaxRecordsPerRequest: 501, MaxRequestBytes: 5 << 20, MaxRecordBytes: 1 << 20}},
		{name: "record over request", l: Limits{MaxRecordsPerRequest: 500, MaxRequestBytes: 1 << 20, MaxRecordBytes: 2 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.l.Check(); (err == nil) != tt.ok {
				t.Fatalf("Check() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
