package reliability

import (
	"crypto/md5"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"
)

// aggregate builds a KPL aggregated record, for the decoder's tests.
func aggregate(keys []string, recs []struct {
	key  uint64
	data string
}) []byte {
	var body []byte
	for _, k := range keys {
		body = protowire.AppendTag(body, 1, protowire.BytesType)
		body = protowire.AppendString(body, k)
	}
	for _, r := range recs {
		var inner []byte
		inner = protowire.AppendTag(inner, 1, protowire.VarintType)
		inner = protowire.AppendVarint(inner, r.key)
		inner = protowire.AppendTag(inner, 3, protowire.BytesType)
		inner = protowire.AppendBytes(inner, []byte(r.data))
		body = protowire.AppendTag(body, 3, protowire.BytesType)
		body = protowire.AppendBytes(body, inner)
	}
	sum := md5.Sum(body)
	out := append([]byte{}, kplMagic...)
	out = append(out, body...)
	return append(out, sum[:]...)
}

func TestDeaggregate(t *testing.T) {
	t.Parallel()
	agg := aggregate([]string{"a", "b"}, []struct {
		key  uint64
		data string
	}{{0, `{"id":"1"}`}, {1, `{"id":"2"}`}, {0, `{"id":"3"}`}})
	bad := append([]byte{}, agg...)
	bad[len(bad)-1] ^= 0xff
	badIndex := aggregate([]string{"a"}, []struct {
		key  uint64
		data string
	}{{5, "x"}})
	tests := []struct {
		name, reason string
		data         []byte
		want         []userRecord
		wantErr      bool
	}{
		{"plain", "a record without the magic prefix is one user record", []byte(`{"id":"p"}`),
			[]userRecord{{Shard: "s", Seq: "9", PartitionKey: "pk", Data: []byte(`{"id":"p"}`)}}, false},
		{"aggregated", "each inner record becomes a user record with its own key", agg, []userRecord{
			{Shard: "s", Seq: "9", Sub: 0, PartitionKey: "a", Data: []byte(`{"id":"1"}`)},
			{Shard: "s", Seq: "9", Sub: 1, PartitionKey: "b", Data: []byte(`{"id":"2"}`)},
			{Shard: "s", Seq: "9", Sub: 2, PartitionKey: "a", Data: []byte(`{"id":"3"}`)},
		}, false},
		{"bad-md5", "a corrupt aggregate is an error, never silently a plain record", bad, nil, true},
		{"bad-index", "a partition key index outside the table is an error", badIndex, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := deaggregate("s", sdktypes.Record{SequenceNumber: aws.String("9"), PartitionKey: aws.String("pk"), Data: tt.data})
			if (err != nil) != tt.wantErr {
				t.Fatalf("%s: err = %v", tt.reason, err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("%s (-want +got):\n%s", tt.reason, d)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	rec := func(id string) userRecord { return userRecord{Data: []byte(fmt.Sprintf(`{"id":%q}`, id))} }
	got, err := compare(
		[]string{"a", "b", "c", "d", "e"},
		[]userRecord{rec("a"), rec("a"), rec("b"), rec("e"), rec("z")},
		[]string{"c", "e"},
	)
	if err != nil {
		t.Fatal(err)
	}
	want := tally{Sent: 5, Read: 5, Unique: 3, Lost: 1, Duplicated: 1, Failed: 2, FailedButStored: 1, Unexpected: 1, LostIDs: []string{"d"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("tally (-want +got):\n%s", d)
	}
	if _, err := compare(nil, []userRecord{{Data: []byte("not json")}}, nil); err == nil {
		t.Error("a record without an event id must be an error")
	}
}
