package kinesis

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/internal/testenv"
)

// nodeDeaggregate is run by node with the npm aws-kinesis-agg package: it
// reads a JSON array of base64 Kinesis record data and writes, for each,
// the user records (partition key, base64 data) with checksums verified.
const nodeDeaggregate = `
const agg = require(process.argv[1] + '/aws-kinesis-agg');
let input = '';
process.stdin.on('data', d => input += d);
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(data => {
    let res;
    agg.deaggregateSync({partitionKey: 'outer', data: data, sequenceNumber: '1'}, true, (err, recs) => {
      if (err) { throw err; }
      res = recs.map(r => ({pk: r.partitionKey, data: r.data}));
    });
    return res;
  });
  process.stdout.write(JSON.stringify(out));
});
`

// TestProducerAggregatesReadByNodeKPL checks the producer's KPL encoding
// against an independent implementation, the npm aws-kinesis-agg package.
func TestProducerAggregatesReadByNodeKPL(t *testing.T) {
	t.Parallel()
	modules := testenv.Lookup(t, testenv.EnvAggNode)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	aggregates := [][]rec{
		{{pk: "a", data: []byte("one")}},
		{{pk: "a", data: []byte("x")}, {pk: "a", data: []byte("y")}, {pk: "b", data: nil}, {pk: "a", data: []byte("z")}},
		{{pk: "clé-ünïcode", data: []byte(strings.Repeat("€", 1000))}, {pk: strings.Repeat("k", 256), data: make([]byte, 40000)}},
	}
	a, err := batch.NewAggregator(batch.WithMaxAggregateBytes(1 << 20))
	if err != nil {
		t.Fatal(err)
	}
	pool := newAggBufPool(1 << 20)
	// Encoded and sealed as send does: unsealed, then all sealed at once.
	var bufs [][]byte
	for _, recs := range aggregates {
		u := unit{ehk: "0", recs: recs}
		buf, err := encodeAggregate(a, pool, &u)
		if err != nil {
			t.Fatal(err)
		}
		bufs = append(bufs, buf.b)
	}
	batch.Seal(bufs...)
	var in []string
	for _, b := range bufs {
		in = append(in, base64.StdEncoding.EncodeToString(b))
	}
	js, _ := json.Marshal(in)
	cmd := exec.Command(node, "-e", nodeDeaggregate, filepath.Clean(modules))
	cmd.Stdin = bytes.NewReader(js)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var got [][]struct{ PK, Data string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node output %q: %v", out, err)
	}
	if len(got) != len(aggregates) {
		t.Fatalf("node read %d aggregates, want %d", len(got), len(aggregates))
	}
	for i, recs := range aggregates {
		if len(got[i]) != len(recs) {
			t.Fatalf("aggregate %d: node read %d records, want %d", i, len(got[i]), len(recs))
		}
		for j, r := range recs {
			d, _ := base64.StdEncoding.DecodeString(got[i][j].Data)
			if got[i][j].PK != r.pk || !bytes.Equal(d, r.data) {
				t.Errorf("aggregate %d record %d: node read key %q, %d bytes; want %q, %d bytes", i, j, got[i][j].PK, len(d), r.pk, len(r.data))
			}
		}
	}
}
