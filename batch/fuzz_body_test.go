package batch

import (
	"bytes"
	"strings"
	"testing"

	awsrecords "github.com/awslabs/kinesis-aggregation/go/v2/records"
	"github.com/golang/protobuf/proto"
)

// FuzzDeaggregateBody fuzzes the protobuf inside an aggregate with a
// correct MD5 (FuzzDeaggregate's mutations rarely get past the checksum),
// against the generated decoder of github.com/awslabs/kinesis-aggregation:
// whatever we accept, it decodes to the same user records; whatever it
// decodes with every index in range, we accept too, unless a known field
// has the wrong wire type (which it skips as unknown and we reject).
func FuzzDeaggregateBody(f *testing.F) {
	f.Add(cat(field(1, []byte("p")), field(2, []byte("12")), field(3, pbRecord(0, 0, []byte("d")))))
	f.Add(cat(field(3, pbRecord(1, -1, []byte("x"))), field(1, []byte("p")), field(1, []byte("q"))))
	f.Add(cat(field(1, []byte("p")), field(3, pbRecord(0, -1, nil))))
	f.Add(cat(field(1, []byte("p")), field(3, cat(pbRecord(0, -1, []byte("d")), field(4, field(1, []byte("k")))))))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, msg []byte) {
		ours, err := Deaggregate(KinesisRecord{SequenceNumber: "1", Data: seal(msg)})
		var theirs awsrecords.AggregatedRecord
		theirErr := proto.Unmarshal(msg, &theirs)
		if err == nil {
			if theirErr != nil {
				t.Fatalf("we accept what the generated decoder rejects (%v): %+v", theirErr, ours)
			}
			if len(ours) != len(theirs.Records) {
				t.Fatalf("%d records, generated decoder %d", len(ours), len(theirs.Records))
			}
			for i, u := range ours {
				w := theirs.Records[i]
				ehk := ""
				if w.ExplicitHashKeyIndex != nil {
					ehk = theirs.ExplicitHashKeyTable[*w.ExplicitHashKeyIndex]
				}
				if u.PartitionKey != theirs.PartitionKeyTable[w.GetPartitionKeyIndex()] || u.ExplicitHashKey != ehk || !bytes.Equal(u.Data, w.Data) {
					t.Fatalf("record %d: %+v, generated decoder %+v", i, u, w)
				}
			}
			return
		}
		if theirErr != nil || len(theirs.Records) == 0 {
			return
		}
		for _, w := range theirs.Records {
			if w.GetPartitionKeyIndex() >= uint64(len(theirs.PartitionKeyTable)) ||
				(w.ExplicitHashKeyIndex != nil && *w.ExplicitHashKeyIndex >= uint64(len(theirs.ExplicitHashKeyTable))) {
				return // both reject, for different reasons
			}
		}
		if r := err.Error(); !strings.Contains(r, "wire type") && !strings.Contains(r, "not a varint") && !strings.Contains(r, "not length-delimited") {
			t.Fatalf("we reject a valid aggregate: %v", err)
		}
	})
}
