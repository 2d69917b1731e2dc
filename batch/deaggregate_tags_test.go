package batch

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// TestDeaggregateTags checks that tags (Record field 4) are skipped when
// well formed and make the aggregate bad when not, as they do for the
// KPL's generated decoders.
func TestDeaggregateTags(t *testing.T) {
	varint := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 7)
	tests := []struct {
		name   string
		reason string
		tag    []byte // the Record's field 4
		bad    string // substring of the DeaggregationError's reason; "" = valid
	}{
		{name: "key and value", reason: "a well-formed tag", tag: field(4, cat(field(1, []byte("k")), field(2, []byte("v"))))},
		{name: "key only", reason: "the value is optional", tag: field(4, field(1, []byte("k")))},
		{name: "unknown field", reason: "unknown fields are skipped", tag: field(4, cat(field(1, []byte("k")), field(9, []byte("x"))))},
		{name: "no key", reason: "Tag.key is required", tag: field(4, field(2, []byte("v"))), bad: "tag without a key"},
		{name: "malformed tag", reason: "found by FuzzDeaggregateBody", tag: field(4, []byte("000")), bad: "malformed protobuf: tag"},
		{name: "key not bytes", reason: "wrong wire type", tag: field(4, varint), bad: "not length-delimited"},
		{name: "tag not bytes", reason: "wrong wire type", tag: protowire.AppendVarint(protowire.AppendTag(nil, 4, protowire.VarintType), 1), bad: "tag is not length-delimited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := cat(field(1, []byte("pk")), field(3, cat(pbRecord(0, -1, []byte("d")), tt.tag)))
			got, err := Deaggregate(KinesisRecord{SequenceNumber: "9", Data: seal(msg)})
			if tt.bad == "" {
				if err != nil || len(got) != 1 || got[0].PartitionKey != "pk" || string(got[0].Data) != "d" {
					t.Fatalf("Deaggregate = %+v, %v; want one record (%s)", got, err, tt.reason)
				}
				return
			}
			var de *DeaggregationError
			if !errors.As(err, &de) || !errors.Is(err, ErrBadAggregate) || de.SequenceNumber != "9" || !strings.Contains(de.Reason, tt.bad) {
				t.Fatalf("Deaggregate = %+v, %v; want a DeaggregationError about %q (%s)", got, err, tt.bad, tt.reason)
			}
		})
	}
}
