package batch_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/internal/testenv"
)

type npmRecord struct {
	PK   string `json:"pk"`
	EHK  string `json:"ehk,omitempty"`
	Seq  string `json:"seq,omitempty"`
	Sub  uint64 `json:"sub"`
	Data string `json:"data"`
}

type npmRequest struct {
	Aggregate   [][]npmRecord `json:"aggregate"`
	Deaggregate []npmRecord   `json:"deaggregate"`
}

type npmResponse struct {
	Aggregated   []npmRecord `json:"aggregated"`
	Deaggregated []struct {
		Records []npmRecord `json:"records"`
		Error   string      `json:"error"`
	} `json:"deaggregated"`
}

// runNPM runs testdata/kpl.js with node and the npm aws-kinesis-agg package.
func runNPM(t *testing.T, req npmRequest) npmResponse {
	t.Helper()
	modules := testenv.Lookup(t, testenv.EnvAggNode)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), node, filepath.Join("testdata", "kpl.js"), filepath.Clean(modules))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node kpl.js: %v\n%s", err, stderr.String())
	}
	var resp npmResponse
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		t.Fatalf("node kpl.js output %q: %v", stdout.String(), err)
	}
	return resp
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// TestCrossCheckNPM checks both directions against npm aws-kinesis-agg:
// it aggregates the same records to the same bytes, it reads our
// aggregates record for record, and we read its aggregates.
func TestCrossCheckNPM(t *testing.T) {
	sets := crossRecords()
	var req npmRequest
	var ours []batch.Record
	for i, recs := range sets {
		var in []npmRecord
		for _, r := range recs {
			in = append(in, npmRecord{PK: r.PartitionKey, EHK: r.ExplicitHashKey, Data: b64(r.Data)})
		}
		req.Aggregate = append(req.Aggregate, in)
		agg := aggregate(t, recs)
		ours = append(ours, agg)
		req.Deaggregate = append(req.Deaggregate, npmRecord{Seq: fmt.Sprint(1000 + i), PK: agg.PartitionKey, Data: b64(agg.Data)})
	}
	// A bad MD5 and a plain record.
	bad := bytes.Clone(ours[2].Data)
	bad[len(bad)-1] ^= 1
	req.Deaggregate = append(req.Deaggregate,
		npmRecord{Seq: "bad", PK: "p", Data: b64(bad)},
		npmRecord{Seq: "plain", PK: "p", Data: b64([]byte(`{"id":"1"}`))})

	resp := runNPM(t, req)
	if len(resp.Aggregated) != len(sets) || len(resp.Deaggregated) != len(req.Deaggregate) {
		t.Fatalf("node answered %d aggregates and %d deaggregations", len(resp.Aggregated), len(resp.Deaggregated))
	}
	for i, recs := range sets {
		t.Run(fmt.Sprintf("set %d (%d records)", i, len(recs)), func(t *testing.T) {
			// Same bytes.
			theirs, err := base64.StdEncoding.DecodeString(resp.Aggregated[i].Data)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ours[i].Data, theirs) {
				t.Fatalf("aggregates differ:\n ours %x\n npm  %x", ours[i].Data, theirs)
			}
			if resp.Aggregated[i].PK != ours[i].PartitionKey {
				t.Errorf("aggregate partition key: npm %q, ours %q", resp.Aggregated[i].PK, ours[i].PartitionKey)
			}
			// Ours read by npm.
			d := resp.Deaggregated[i]
			if d.Error != "" {
				t.Fatalf("npm deaggregate: %s", d.Error)
			}
			if len(d.Records) != len(recs) {
				t.Fatalf("npm read %d records, want %d", len(d.Records), len(recs))
			}
			// npm quirk: protobufjs reads an absent explicit_hash_key_index
			// as 0, so npm reports the table's first hash key for a record
			// that has none (the bytes have none: see the awslabs check).
			firstEHK := ""
			for _, r := range recs {
				if r.ExplicitHashKey != "" {
					firstEHK = r.ExplicitHashKey
					break
				}
			}
			for j, u := range d.Records {
				w := recs[j]
				wantEHK := w.ExplicitHashKey
				if wantEHK == "" {
					wantEHK = firstEHK
				}
				if u.PK != w.PartitionKey || u.EHK != wantEHK || u.Data != b64(w.Data) || u.Sub != uint64(j) {
					t.Fatalf("npm read record %d as %+v, want %q %q %s", j, u, w.PartitionKey, wantEHK, b64(w.Data))
				}
			}
			// npm's read by ours.
			got, err := batch.Deaggregate(batch.KinesisRecord{SequenceNumber: "1", Data: theirs})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(recs) {
				t.Fatalf("read %d records of npm's aggregate, want %d", len(got), len(recs))
			}
			for j, u := range got {
				w := recs[j]
				if u.PartitionKey != w.PartitionKey || u.ExplicitHashKey != w.ExplicitHashKey || !bytes.Equal(u.Data, w.Data) {
					t.Fatalf("record %d = %+v, want %+v", j, u, w)
				}
			}
		})
	}
	t.Run("bad MD5", func(t *testing.T) {
		d := resp.Deaggregated[len(sets)]
		if !strings.Contains(d.Error, "checksum") {
			t.Fatalf("npm with checksums on: error %q, records %d; want a checksum error", d.Error, len(d.Records))
		}
		if _, err := batch.Deaggregate(batch.KinesisRecord{SequenceNumber: "bad", Data: bad}); err == nil {
			t.Fatal("Deaggregate accepted a bad MD5")
		}
	})
	t.Run("plain", func(t *testing.T) {
		d := resp.Deaggregated[len(sets)+1]
		if d.Error != "" || len(d.Records) != 1 || d.Records[0].Data != b64([]byte(`{"id":"1"}`)) || d.Records[0].PK != "p" {
			t.Fatalf("npm read a plain record as %+v", d)
		}
	})
}
