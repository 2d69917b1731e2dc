package main

import (
	"bufio"
	"fmt"
	"html"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// runResult is one run of one contender.
type runResult struct {
	CPUNS    int64            `json:"cpu_ns"`  // user+sys of the child process
	WorkNS   int64            `json:"work_ns"` // wall time of the work
	Events   int64            `json:"events"`  // events put or handled
	Mallocs  int64            `json:"mallocs"` // -1: not measured (rtds put)
	Requests map[string]int64 `json:"requests,omitempty"`
	Entries  int64            `json:"entries,omitempty"`
	Failed   int64            `json:"failed,omitempty"`
	Err      string           `json:"err,omitempty"`
	Set      setCheck         `json:"set"`
	// Producers: what reading the stream back found.
	Records     int64 `json:"records,omitempty"`
	Bytes       int64 `json:"bytes,omitempty"`
	MaxRecord   int64 `json:"max_record,omitempty"`
	OverLimit   int64 `json:"over_limit,omitempty"`
	KeyMismatch int64 `json:"key_mismatch,omitempty"`
	BadRecords  int64 `json:"bad_records,omitempty"`
}

func (r *runResult) check(sc *streamCheck, in *inputSet) {
	r.Set = compareIDs(in.ids, sc.ids)
	r.Records, r.Bytes, r.MaxRecord, r.OverLimit, r.KeyMismatch, r.BadRecords =
		sc.Records, sc.Bytes, sc.MaxRecord, sc.OverLimit, sc.KeyMismatch, sc.BadRecords
}

func (r *runResult) cpuPerEvent(n int) float64 { return float64(r.CPUNS) / 1e3 / float64(n) }

func (r *runResult) eventsPerSec() float64 {
	if r.WorkNS == 0 {
		return 0
	}
	return float64(r.Events) / (float64(r.WorkNS) / 1e9)
}

func (r *runResult) allocsPerEvent(n int) float64 {
	if r.Mallocs < 0 {
		return math.NaN()
	}
	return float64(r.Mallocs) / float64(n)
}

// requests is the run's PutRecords (producers) or GetRecords (consumers)
// calls.
func (r *runResult) requests(produce bool) int64 {
	if produce {
		return r.Requests["PutRecords"]
	}
	return r.Requests["GetRecords"]
}

// contenderResult is every run of one contender.
type contenderResult struct {
	Name     string       `json:"name"`
	Workload string       `json:"workload"`
	About    string       `json:"about"`
	Peer     string       `json:"peer,omitempty"`
	Produce  bool         `json:"produce"`
	Source   string       `json:"source,omitempty"`
	External bool         `json:"external,omitempty"`
	Runs     []*runResult `json:"runs"`
}

// results is a whole benchmark run.
type results struct {
	Date       time.Time               `json:"date"`
	Events     int                     `json:"events"`
	Rounds     int                     `json:"rounds"`
	AvgBytes   float64                 `json:"avg_event_bytes"`
	Machine    string                  `json:"machine"`
	Versions   []string                `json:"versions"`
	Command    string                  `json:"command"`
	Contenders []*contenderResult      `json:"contenders"`
	Sources    map[string]*streamCheck `json:"sources"`
}

func newResults(o options, in *inputSet, cs []contender) *results {
	res := &results{
		Date: time.Now().UTC(), Events: o.events, Rounds: o.rounds,
		AvgBytes: float64(in.bytes) / float64(o.events),
		Machine:  machine(), Versions: versions(),
		Command: fmt.Sprintf("bench/cmd/e2e -events %d -rounds %d", o.events, o.rounds),
		Sources: map[string]*streamCheck{},
	}
	for _, c := range cs {
		res.Contenders = append(res.Contenders, &contenderResult{
			Name: c.name, Workload: c.workload, About: c.about, Peer: c.peer,
			Produce: c.produce, Source: c.source, External: c.external,
		})
	}
	return res
}

func (res *results) add(name string, r *runResult) {
	for _, c := range res.Contenders {
		if c.Name == name {
			c.Runs = append(c.Runs, r)
		}
	}
}

func (res *results) byName(name string) *contenderResult {
	for _, c := range res.Contenders {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// correct reports whether every run succeeded and every event was read
// back exactly once. Key mismatches and records over the limit are
// reported, not failures: a8m has them by design.
func (res *results) correct() bool {
	for _, c := range res.Contenders {
		for _, r := range c.Runs {
			if r.Err != "" || !r.Set.exact(res.Events) {
				return false
			}
		}
	}
	return true
}

// stat is the median, minimum and maximum of a sample.
type stat struct{ Med, Min, Max float64 }

func newStat(xs []float64) stat {
	xs = slices.DeleteFunc(slices.Clone(xs), math.IsNaN)
	if len(xs) == 0 {
		return stat{math.NaN(), math.NaN(), math.NaN()}
	}
	slices.Sort(xs)
	n := len(xs)
	med := xs[n/2]
	if n%2 == 0 {
		med = (xs[n/2-1] + xs[n/2]) / 2
	}
	return stat{Med: med, Min: xs[0], Max: xs[n-1]}
}

func (c *contenderResult) stat(f func(*runResult) float64) stat {
	xs := make([]float64, 0, len(c.Runs))
	for _, r := range c.Runs {
		if r.Err == "" {
			xs = append(xs, f(r))
		}
	}
	return newStat(xs)
}

func (c *contenderResult) cpu(n int) stat {
	return c.stat(func(r *runResult) float64 { return r.cpuPerEvent(n) })
}

// fmtNum formats x with d decimals and thousands separators; "—" for NaN.
func fmtNum(x float64, d int) string {
	if math.IsNaN(x) {
		return "—"
	}
	s := fmt.Sprintf("%.*f", d, x)
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, ch := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	if neg {
		return "-" + b.String() + frac
	}
	return b.String() + frac
}

func (s stat) fmt(d int) string {
	if math.IsNaN(s.Med) {
		return "—"
	}
	return fmt.Sprintf("%s (%s–%s)", fmtNum(s.Med, d), fmtNum(s.Min, d), fmtNum(s.Max, d))
}

// markdown is the results as markdown: the headline ratios, then every
// contender.
func markdown(res *results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s: %s events of %s bytes on average per run, %d rounds interleaved, 4-shard kinesalite streams.\n\n",
		res.Date.Format("2006-01-02 15:04 UTC"), fmtNum(float64(res.Events), 0), fmtNum(res.AvgBytes, 0), res.Rounds)
	fmt.Fprintf(&b, "Machine: %s. Versions: %s. Command: `%s`.\n\n", res.Machine, strings.Join(res.Versions, ", "), res.Command)

	b.WriteString("**rtds ÷ peer, client CPU per event** (ratio of the medians; in brackets the range of the per-round ratios; below 1 favours rtds):\n\n")
	b.WriteString("| workload | rtds | peer | rtds CPU µs/event | peer CPU µs/event | rtds / peer CPU |\n|---|---|---|---|---|---|\n")
	for _, c := range res.Contenders {
		p := res.byName(c.Peer)
		if c.Peer == "" || p == nil {
			continue
		}
		rc, pc := c.cpu(res.Events), p.cpu(res.Events)
		var per []float64
		for i := range min(len(c.Runs), len(p.Runs)) {
			if c.Runs[i].Err == "" && p.Runs[i].Err == "" && p.Runs[i].CPUNS > 0 {
				per = append(per, float64(c.Runs[i].CPUNS)/float64(p.Runs[i].CPUNS))
			}
		}
		ps := newStat(per)
		fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s | %s | **%s** (%s–%s) |\n", c.Workload, c.Name, p.Name,
			fmtNum(rc.Med, 2), fmtNum(pc.Med, 2), fmtNum(rc.Med/pc.Med, 2), fmtNum(ps.Min, 2), fmtNum(ps.Max, 2))
	}

	b.WriteString("\n**Every contender** (median, in brackets min–max over the rounds):\n\n")
	b.WriteString("| contender | workload | CPU µs/event | events/s | allocs/event | Kinesis records | requests | bytes/record | events read back | keys not the event's channel | records > 1 MiB (largest, bytes) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range res.Contenders {
		cpu := c.cpu(res.Events)
		eps := c.stat(func(r *runResult) float64 { return r.eventsPerSec() })
		allocs := c.stat(func(r *runResult) float64 { return r.allocsPerEvent(res.Events) })
		reqs := c.stat(func(r *runResult) float64 { return float64(r.requests(c.Produce)) })
		reqName := "GetRecords"
		if c.Produce {
			reqName = "PutRecords"
		}
		reqCol := fmtNum(reqs.Med, 0) + " " + reqName
		if c.External {
			reqCol = "—"
		}
		var records, bpr, keys, over string
		if c.Produce {
			recs := c.stat(func(r *runResult) float64 { return float64(r.Records) })
			bytesPer := c.stat(func(r *runResult) float64 { return float64(r.Bytes) / float64(max(r.Records, 1)) })
			km := c.stat(func(r *runResult) float64 { return float64(r.KeyMismatch) })
			ol := c.stat(func(r *runResult) float64 { return float64(r.OverLimit) })
			mr := c.stat(func(r *runResult) float64 { return float64(r.MaxRecord) })
			records, bpr = fmtNum(recs.Med, 0), fmtNum(bytesPer.Med, 0)
			keys = fmtNum(km.Max, 0)
			over = fmt.Sprintf("%s (%s)", fmtNum(ol.Max, 0), fmtNum(mr.Max, 0))
		} else if sc := res.Sources[c.Source]; sc != nil {
			records = fmtNum(float64(sc.Records), 0)
			bpr = fmtNum(float64(sc.Bytes)/float64(max(sc.Records, 1)), 0)
			keys = "— (stream: 0)"
			over = fmt.Sprintf("— (stream: %s)", fmtNum(float64(sc.OverLimit), 0))
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			c.Name, c.Workload, cpu.fmt(2), fmtNum(eps.Med, 0), fmtNum(allocs.Med, 1),
			records, reqCol, bpr, readBackCol(c, res.Events), keys, over)
	}
	b.WriteString("\nContenders:\n\n")
	for _, c := range res.Contenders {
		fmt.Fprintf(&b, "- `%s`: %s.\n", c.Name, c.About)
	}
	return b.String()
}

// readBackCol summarizes the exact-set check over the runs.
func readBackCol(c *contenderResult, n int) string {
	exact, worst := 0, ""
	for _, r := range c.Runs {
		switch {
		case r.Err != "":
			worst = "error: " + r.Err
		case r.Set.exact(n):
			exact++
		default:
			worst = fmt.Sprintf("%s read, %s missing, %s duplicates, %s unexpected",
				fmtNum(float64(r.Set.Read), 0), fmtNum(float64(r.Set.Missing), 0),
				fmtNum(float64(r.Set.Duplicates), 0), fmtNum(float64(r.Set.Unexpected), 0))
		}
	}
	if exact == len(c.Runs) {
		return fmt.Sprintf("all %s exactly once (%d/%d runs)", fmtNum(float64(n), 0), exact, len(c.Runs))
	}
	return fmt.Sprintf("%d/%d runs exact; %s", exact, len(c.Runs), worst)
}

// svgChart draws client CPU per event per contender: a bar for the median
// and a whisker from the minimum to the maximum, grouped by workload.
func svgChart(res *results) string {
	const (
		width  = 760
		left   = 130
		right  = 90
		top    = 48
		rowH   = 24
		groupH = 22
	)
	type row struct {
		name    string
		rtds    bool
		s       stat
		heading string
	}
	var rows []row
	hi := 0.0
	last := ""
	for _, c := range res.Contenders {
		if c.Workload != last {
			rows = append(rows, row{heading: c.Workload})
			last = c.Workload
		}
		s := c.cpu(res.Events)
		rows = append(rows, row{name: c.Name, rtds: strings.HasPrefix(c.Name, "rtds"), s: s})
		if !math.IsNaN(s.Max) {
			hi = max(hi, s.Max)
		}
	}
	if hi == 0 {
		hi = 1
	}
	hi = niceCeil(hi)
	height := top + 30
	for _, r := range rows {
		if r.heading != "" {
			height += groupH
		} else {
			height += rowH
		}
	}
	plotW := float64(width - left - right)
	x := func(v float64) float64 { return float64(left) + v/hi*plotW }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" font-weight="bold">Client CPU per event (µs, user+sys), lower is better</text>`+"\n", left)
	fmt.Fprintf(&b, `<text x="%d" y="34" fill="#555">%s events × %d rounds, 4-shard kinesalite; bar: median, whisker: min–max</text>`+"\n",
		left, fmtNum(float64(res.Events), 0), res.Rounds)
	// Grid.
	steps := 5
	for i := 0; i <= steps; i++ {
		v := hi * float64(i) / float64(steps)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x(v), top, x(v), height-24)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`+"\n", x(v), height-8, trimNum(v))
	}
	y := top
	for _, r := range rows {
		if r.heading != "" {
			fmt.Fprintf(&b, `<text x="8" y="%d" font-weight="bold">%s</text>`+"\n", y+15, html.EscapeString(r.heading))
			y += groupH
			continue
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+16, html.EscapeString(r.name))
		if !math.IsNaN(r.s.Med) {
			fill := "#9aa5b1"
			if r.rtds {
				fill = "#2b6cb0"
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", left, y+4, x(r.s.Med)-float64(left), rowH-8, fill)
			cy := y + rowH/2
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>`+"\n", x(r.s.Min), cy, x(r.s.Max), cy)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>`+"\n", x(r.s.Min), cy-5, x(r.s.Min), cy+5)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>`+"\n", x(r.s.Max), cy-5, x(r.s.Max), cy+5)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`+"\n", x(r.s.Max)+6, y+16, fmtNum(r.s.Med, 2))
		} else {
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#a00">failed</text>`+"\n", left+4, y+16)
		}
		y += rowH
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// niceCeil rounds v up to 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of
// ten, so that the longest bar takes most of the chart's width.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimNum(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// machine describes the CPU, core count and Go version.
func machine() string {
	model := ""
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if model == "" {
		model = "unknown CPU"
	}
	return fmt.Sprintf("%s, %d logical CPUs, %s %s/%s", model, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// versions lists rtds's revision and the compared modules' versions.
func versions() []string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	var out []string
	if rev, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		v := "rtds " + strings.TrimSpace(string(rev))
		if exec.Command("git", "diff", "--quiet", "HEAD").Run() != nil {
			v += " (with uncommitted changes)"
		}
		out = append(out, v)
	}
	want := []string{
		"github.com/a8m/kinesis-producer",
		"github.com/harlow/kinesis-consumer",
		"github.com/aws/aws-sdk-go-v2",
		"github.com/aws/aws-sdk-go-v2/service/kinesis",
		"github.com/awslabs/kinesis-aggregation/go/v2",
	}
	for _, d := range bi.Deps {
		if slices.Contains(want, d.Path) {
			out = append(out, strings.TrimPrefix(d.Path, "github.com/")+" "+d.Version)
		}
	}
	return out
}
