package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary stand in for the command: run re-executes
// os.Executable with the child subcommand.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		os.Exit(runChild(os.Args[2:]))
	}
	os.Exit(m.Run())
}

func TestStat(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want stat
	}{
		{[]float64{3, 1, 2}, stat{2, 1, 3}},
		{[]float64{4, 1, 2, 3}, stat{2.5, 1, 4}},
		{[]float64{5, math.NaN()}, stat{5, 5, 5}},
	} {
		if got := newStat(tc.in); got != tc.want {
			t.Errorf("newStat(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	if s := newStat(nil); !math.IsNaN(s.Med) {
		t.Errorf("newStat(nil) = %+v, want NaN", s)
	}
}

func TestCompareIDs(t *testing.T) {
	want := []uint64{1, 2, 3, 4}
	for _, tc := range []struct {
		got  []uint64
		want setCheck
	}{
		{[]uint64{4, 3, 2, 1}, setCheck{Read: 4}},
		{[]uint64{1, 2, 3}, setCheck{Read: 3, Missing: 1}},
		{[]uint64{1, 2, 2, 3, 4}, setCheck{Read: 5, Duplicates: 1}},
		{[]uint64{1, 2, 3, 4, 9, 0}, setCheck{Read: 6, Unexpected: 2}},
		{nil, setCheck{Missing: 4}},
	} {
		if got := compareIDs(want, tc.got); got != tc.want {
			t.Errorf("compareIDs(%v) = %+v, want %+v", tc.got, got, tc.want)
		}
	}
	if !compareIDs(want, []uint64{2, 1, 4, 3}).exact(4) {
		t.Error("a permutation is not exact")
	}
}

func TestFmtNum(t *testing.T) {
	for in, want := range map[float64]string{
		0: "0", 999: "999", 1000: "1,000", 200000: "200,000", 1234567.891: "1,234,567.89", -1234: "-1,234",
	} {
		d := 0
		if in != math.Trunc(in) {
			d = 2
		}
		if got := fmtNum(in, d); got != want {
			t.Errorf("fmtNum(%v) = %q, want %q", in, got, want)
		}
	}
	if got := fmtNum(math.NaN(), 1); got != "—" {
		t.Errorf("fmtNum(NaN) = %q", got)
	}
}

func TestReadLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(p, []byte("a\n\nbc\nd"), 0o644); err != nil {
		t.Fatal(err)
	}
	lines, err := readLines(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(bytes.Join(lines, []byte("|"))); got != "a|bc|d" {
		t.Errorf("readLines = %q", got)
	}
}

// fakeResults is a results with two rounds of a produce and a consume pair.
func fakeResults() *results {
	res := &results{Events: 1000, Rounds: 2, AvgBytes: 925, Machine: "test", Sources: map[string]*streamCheck{
		"plain": {Records: 1000, Bytes: 925000},
	}}
	mk := func(cpuUS ...float64) []*runResult {
		var rs []*runResult
		for _, c := range cpuUS {
			rs = append(rs, &runResult{CPUNS: int64(c * 1000 * 1000), WorkNS: 1e9, Events: 1000, Mallocs: 5000,
				Requests: map[string]int64{"PutRecords": 3, "GetRecords": 4}, Records: 20, Bytes: 925000 + 20*36,
				MaxRecord: 50000, Set: setCheck{Read: 1000}})
		}
		return rs
	}
	res.Contenders = []*contenderResult{
		{Name: "rtds", Workload: wlNDJSON, Produce: true, Peer: "a8m", About: "r", Runs: mk(10, 12)},
		{Name: "a8m", Workload: wlNDJSON, Produce: true, About: "a", Runs: mk(20, 20)},
		{Name: "rtds-plain", Workload: wlPlain, Source: "plain", Peer: "harlow-plain", About: "c", Runs: mk(5, 7)},
		{Name: "harlow-plain", Workload: wlPlain, Source: "plain", About: "h", Runs: mk(15, 15)},
	}
	res.Contenders[1].Runs[1].KeyMismatch = 990
	return res
}

func TestMarkdown(t *testing.T) {
	md := markdown(fakeResults())
	for _, want := range []string{
		"| produce from NDJSON, key = channel id | `rtds` | `a8m` | 11.00 | 20.00 | **0.55** (0.50–0.60) |",
		"| consume plain records | `rtds-plain` | `harlow-plain` | 6.00 | 15.00 | **0.40** (0.33–0.47) |",
		"| `a8m` | produce from NDJSON, key = channel id | 20.00 (20.00–20.00) | 1,000 | 5.0 | 20 | 3 PutRecords | 46,286 | all 1,000 exactly once (2/2 runs) | 990 | 0 (50,000) |",
		"| `harlow-plain` | consume plain records | 15.00 (15.00–15.00) | 1,000 | 5.0 | 1,000 | 4 GetRecords | 925 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks\n%s\nin\n%s", want, md)
		}
	}
}

func TestSVG(t *testing.T) {
	res := fakeResults()
	res.Contenders[3].Runs = []*runResult{{Err: "failed"}}
	svg := svgChart(res)
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, svg)
		}
	}
	for _, want := range []string{">rtds<", ">harlow-plain<", ">failed<", ">11.00<", "consume plain records"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestWriteMarkdown(t *testing.T) {
	p := filepath.Join(t.TempDir(), "B.md")
	doc := "# Title\n\n" + beginMarker + "\nold\n" + endMarker + "\n\nafter\n"
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeMarkdown(p, "new table\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	want := "# Title\n\n" + beginMarker + "\nnew table\n" + endMarker + "\n\nafter\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestRun runs every contender but `rtds put` once, on 1,000 events,
// against kinesalite (a few seconds; more under -race).
func TestRun(t *testing.T) {
	endpoint := os.Getenv("RTDS_KINESALITE_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("RTDS_INTEGRATION") == "required" {
			t.Fatal("RTDS_KINESALITE_ENDPOINT is not set (start the emulators: scripts/emulators.sh start)")
		}
		t.Skip("RTDS_KINESALITE_ENDPOINT is not set")
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := runMain([]string{"-endpoint", endpoint, "-events", "1000", "-rounds", "1",
		"-svg", filepath.Join(dir, "c.svg"), "-md", filepath.Join(dir, "r.md")}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stderr.String(), stdout.String())
	}
	out := stdout.String()
	for _, c := range contenders {
		if c.external {
			continue
		}
		if !strings.Contains(out, "| `"+c.name+"` |") {
			t.Errorf("no row for %s", c.name)
		}
	}
	if n := strings.Count(out, "all 1,000 exactly once (1/1 runs)"); n != len(contenders)-1 {
		t.Errorf("%d contenders read back every event exactly once, want %d\n%s", n, len(contenders)-1, out)
	}
	for _, f := range []string{"c.svg", "r.md"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for _, c := range []struct{ v, want float64 }{
		{0.7, 0.8}, {1, 1}, {1.2, 1.5}, {9.9, 10}, {22.4, 25}, {46.96, 50}, {52.9, 60}, {61, 80}, {99, 100}, {101, 150},
	} {
		if got := niceCeil(c.v); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("niceCeil(%v) = %v, want %v", c.v, got, c.want)
		}
	}
}
