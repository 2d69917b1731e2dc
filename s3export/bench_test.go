package s3export

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis"
)

// cpuTime is the process's user plus system CPU time (gofakes3 and
// kinesalite are other processes: not counted).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var benchTypes = []string{"OPEN", "CLOSE", "CUSTOM", "SEND", "LOCATION", "UNINSTALL"}

// benchEvents returns events [from, from+n): in processed order, 2 ms
// apart, of six types, about 330 bytes each.
func benchEvents(from, n int) [][]byte {
	base := time.Date(2026, 3, 8, 16, 0, 0, 0, time.UTC)
	out := make([][]byte, n)
	for k := range out {
		i := from + k
		p := base.Add(time.Duration(i) * 2 * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
		out[k] = ev("b"+strconv.Itoa(i), benchTypes[i%len(benchTypes)], p)
	}
	return out
}

// BenchmarkExport measures the exporter alone (no Kinesis): one shard
// writer, events in processed order, to gofakes3 and to a local
// directory, CSV and JSON, gzip on and off. events/s is wall-clock
// throughput; cpu-µs/event is this process's CPU per event.
func BenchmarkExport(b *testing.B) {
	for _, target := range []string{"s3", "dir"} {
		for _, format := range []Format{FormatCSV, FormatJSON} {
			for _, gz := range []bool{false, true} {
				b.Run(fmt.Sprintf("%s/%s/gzip=%v", target, format, gz), func(b *testing.B) {
					var tg Target
					if target == "s3" {
						c, _ := testenv.S3(b)
						var err error
						if tg, err = NewS3Target(c, testenv.CreateBucket(b, c), ""); err != nil {
							b.Fatal(err)
						}
					} else {
						var err error
						if tg, err = NewDirTarget(b.TempDir()); err != nil {
							b.Fatal(err)
						}
					}
					e, err := New(tg, testApp, testInteg, WithFormat(format), WithGzip(gz))
					if err != nil {
						b.Fatal(err)
					}
					w := e.NewShardWriter(testShard)
					ctx := context.Background()
					var cpu, wall time.Duration
					var bytes int64
					const chunk = 10000
					b.ResetTimer()
					for done := 0; done < b.N; done += chunk {
						b.StopTimer()
						evs := benchEvents(done, min(chunk, b.N-done))
						b.StartTimer()
						c0, t0 := cpuTime(), time.Now()
						for k, d := range evs {
							bytes += int64(len(d))
							if err := w.Write(ctx, rec(testShard, done+k, d), nopAck{}); err != nil {
								b.Fatal(err)
							}
						}
						cpu += cpuTime() - c0
						wall += time.Since(t0)
					}
					c0, t0 := cpuTime(), time.Now()
					if err := w.Close(ctx); err != nil {
						b.Fatal(err)
					}
					cpu += cpuTime() - c0
					wall += time.Since(t0)
					b.StopTimer()
					b.SetBytes(bytes / int64(b.N))
					b.ReportMetric(float64(b.N)/wall.Seconds(), "events/s")
					b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
				})
			}
		}
	}
}

type nopAck struct{}

func (nopAck) Done()      {}
func (nopAck) Fail(error) {}

// BenchmarkExportFromKinesalite measures a whole export: a 4-shard
// kinesalite stream of 20,000 events read by kinesis.Consumer through a
// Sink, to gofakes3 and to a local directory, JSON with gzip and CSV
// without. Each iteration exports the whole stream once.
func BenchmarkExportFromKinesalite(b *testing.B) {
	kc, _ := testenv.Kinesalite(b)
	stream, _ := testenv.CreateStream(b, kc, 4)
	const n = 20000
	recs := benchEvents(0, n)
	putEvents(b, kc, stream, recs)
	for _, target := range []string{"s3", "dir"} {
		for _, tc := range []struct {
			format Format
			gz     bool
		}{{FormatJSON, true}, {FormatCSV, false}} {
			b.Run(fmt.Sprintf("%s/%s/gzip=%v", target, tc.format, tc.gz), func(b *testing.B) {
				var cpu, wall time.Duration
				for range b.N {
					var tg Target
					if target == "s3" {
						c, _ := testenv.S3(b)
						tg, _ = NewS3Target(c, testenv.CreateBucket(b, c), "")
					} else {
						tg, _ = NewDirTarget(b.TempDir())
					}
					e, _ := New(tg, testApp, testInteg, WithFormat(tc.format), WithGzip(tc.gz))
					sink, err := NewSink(e, kc, stream, SinkIdleClose(0))
					if err != nil {
						b.Fatal(err)
					}
					c, err := kinesis.NewConsumer(kc, stream, append(sink.ConsumerOptions(),
						kinesis.WithCheckpointStore(kinesis.NewMemoryStore()),
						kinesis.WithGetRecordsLimit(10000), kinesis.WithGetRecordsRate(50),
						kinesis.WithIdleWait(10*time.Millisecond))...)
					if err != nil {
						b.Fatal(err)
					}
					ctx, cancel := context.WithCancel(context.Background())
					done := make(chan error, 1)
					c0, t0 := cpuTime(), time.Now()
					go func() { done <- c.Run(ctx) }()
					for e.Stats().Events < n {
						time.Sleep(5 * time.Millisecond)
					}
					cancel()
					if err := sink.Close(context.Background()); err != nil {
						b.Fatal(err)
					}
					<-done
					cpu += cpuTime() - c0
					wall += time.Since(t0)
				}
				b.ReportMetric(float64(n*b.N)/wall.Seconds(), "events/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "cpu-µs/event")
			})
		}
	}
}
