package batch

import (
	"crypto/md5"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// benchRecords returns n records of size bytes of data over 64 partition
// keys, like RTDS events keyed by channel.
// fullAggregator returns an aggregator holding as many records of size
// bytes as fit in one aggregate (added with AddShared if shared, Add
// otherwise), and those records.
func fullAggregator(b *testing.B, size int, shared bool) (*Aggregator, []Record) {
	b.Helper()
	a, err := NewAggregator()
	if err != nil {
		b.Fatal(err)
	}
	add := a.Add
	if shared {
		add = a.AddShared
	}
	var recs []Record
	for _, r := range benchRecords(1000, size) {
		if !a.WouldFit(r) {
			break
		}
		if err := add(r); err != nil {
			b.Fatal(err)
		}
		recs = append(recs, r)
	}
	return a, recs
}

func benchRecords(n, size int) []Record {
	rng := rand.New(rand.NewPCG(42, 42))
	rs := make([]Record, n)
	for i := range rs {
		d := make([]byte, size)
		for j := range d {
			d[j] = byte('a' + rng.IntN(26))
		}
		rs[i] = Record{PartitionKey: "8f3e2d1c-channel-" + strconv.Itoa(rng.IntN(64)), Data: d}
	}
	return rs
}

// BenchmarkKPL compares aggregation and deaggregation with crypto/md5 alone
// over the same bytes (the aggregate), in one run:
//
//	go test -run '^$' -bench 'KPL' -benchmem ./batch/
//
// md5 is the floor of the work: both must checksum the whole aggregate.
// All three report MB/s of aggregate bytes.
func BenchmarkKPL(b *testing.B) {
	for _, size := range []int{128, 512, 2048} {
		a, recs := fullAggregator(b, size, false)
		agg := a.Build()
		data := append([]byte(nil), agg.Data...)
		kr := KinesisRecord{SequenceNumber: "1", PartitionKey: agg.PartitionKey, Data: data}
		name := fmt.Sprintf("record=%dB", size)
		b.Run(name+"/md5", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				md5.Sum(data)
			}
		})
		b.Run(name+"/aggregate", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				a.Reset()
				for _, r := range recs {
					if err := a.Add(r); err != nil {
						b.Fatal(err)
					}
				}
				a.Build()
			}
		})
		// Add copies each record's data into the aggregator, AddShared
		// refers to it until AppendTo copies it once.
		for _, add := range []struct {
			name string
			add  func(Record) error
		}{{"aggregate-append", a.Add}, {"aggregate-shared-append", a.AddShared}} {
			b.Run(name+"/"+add.name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				out := make([]byte, 0, len(data))
				for b.Loop() {
					a.Reset()
					for _, r := range recs {
						if err := add.add(r); err != nil {
							b.Fatal(err)
						}
					}
					out = a.AppendTo(out[:0])
				}
			})
		}
		b.Run(name+"/deaggregate", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			n := 0
			count := func(u UserRecord) error { n += len(u.Data); return nil }
			for b.Loop() {
				if err := DeaggregateFunc(kr, count); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/deaggregate-append", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			buf := make([]UserRecord, 0, len(recs))
			for b.Loop() {
				var err error
				if buf, err = AppendDeaggregated(buf[:0], kr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkKPLRatio measures aggregation, deaggregation and crypto/md5
// over the same aggregate interleaved within each iteration, so load from
// other processes hits them alike, and reports throughput relative to
// crypto/md5 (1.0 = as fast as md5 alone; the target is 0.8 or more):
//
//	go test -run '^$' -bench 'KPLRatio' ./batch/
//
// aggregate is Add then Build (one copy of the data: the aggregate is
// built in place); append is Add then AppendTo into a buffer of one's own
// (two copies), shared-append AddShared then AppendTo (one copy), which is
// what the kinesis producer does.
func BenchmarkKPLRatio(b *testing.B) {
	for _, size := range []int{128, 512, 2048} {
		b.Run(fmt.Sprintf("record=%dB", size), func(b *testing.B) {
			a, recs := fullAggregator(b, size, false)
			kr := KinesisRecord{SequenceNumber: "1", Data: append([]byte(nil), a.Build().Data...)}
			out := make([]byte, 0, len(kr.Data))
			nop := func(UserRecord) error { return nil }
			// Medians of per-iteration times resist preemption spikes.
			var tMD5, tAgg, tAppend, tShared, tDeagg []time.Duration
			b.SetBytes(int64(5 * len(kr.Data)))
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				md5.Sum(kr.Data)
				t1 := time.Now()
				a.Reset()
				for _, r := range recs {
					if err := a.Add(r); err != nil {
						b.Fatal(err)
					}
				}
				a.Build()
				t2 := time.Now()
				if err := DeaggregateFunc(kr, nop); err != nil {
					b.Fatal(err)
				}
				t3 := time.Now()
				a.Reset()
				for _, r := range recs {
					if err := a.Add(r); err != nil {
						b.Fatal(err)
					}
				}
				out = a.AppendTo(out[:0])
				t4 := time.Now()
				a.Reset()
				for _, r := range recs {
					if err := a.AddShared(r); err != nil {
						b.Fatal(err)
					}
				}
				out = a.AppendTo(out[:0])
				t5 := time.Now()
				tMD5 = append(tMD5, t1.Sub(t0))
				tAgg = append(tAgg, t2.Sub(t1))
				tDeagg = append(tDeagg, t3.Sub(t2))
				tAppend = append(tAppend, t4.Sub(t3))
				tShared = append(tShared, t5.Sub(t4))
			}
			m := median(tMD5)
			b.ReportMetric(m/median(tAgg), "aggregate/md5")
			b.ReportMetric(m/median(tAppend), "append/md5")
			b.ReportMetric(m/median(tShared), "shared-append/md5")
			b.ReportMetric(m/median(tDeagg), "deaggregate/md5")
			b.ReportMetric(float64(len(recs)), "records/aggregate")
		})
	}
}

// BenchmarkSealRatio measures encoding 16 aggregates of records of one
// size with AppendTo (one MD5 at a time) against AppendToUnsealed and one
// Seal (MD5s side by side), interleaved within each iteration, and reports
// the time of the second relative to the first (the target is well below
// 1 on amd64 with AVX2):
//
//	go test -run '^$' -bench 'SealRatio' ./batch/
func BenchmarkSealRatio(b *testing.B) {
	for _, size := range []int{128, 1024} {
		b.Run(fmt.Sprintf("record=%dB", size), func(b *testing.B) {
			a, recs := fullAggregator(b, size, true)
			const n = 16
			outs := make([][]byte, n)
			for i := range outs {
				outs[i] = make([]byte, 0, a.Size())
			}
			var tSeq, tSeal []time.Duration
			b.SetBytes(int64(2 * n * a.Size()))
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				for i := range outs {
					a.Reset()
					for _, r := range recs {
						_ = a.AddShared(r)
					}
					outs[i] = a.AppendTo(outs[i][:0])
				}
				t1 := time.Now()
				for i := range outs {
					a.Reset()
					for _, r := range recs {
						_ = a.AddShared(r)
					}
					outs[i] = a.AppendToUnsealed(outs[i][:0])
				}
				Seal(outs...)
				t2 := time.Now()
				tSeq = append(tSeq, t1.Sub(t0))
				tSeal = append(tSeal, t2.Sub(t1))
			}
			b.ReportMetric(median(tSeal)/median(tSeq), "sealed/appendto")
		})
	}
}

func median(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[len(d)/2])
}

// BenchmarkBatcher packs records into requests; the target is 0 allocs/op
// (one op is one record).
func BenchmarkBatcher(b *testing.B) {
	recs := benchRecords(1024, 512)
	l := DefaultLimits()
	bt, err := NewBatcher(l.Size, func([]Record) {})
	if err != nil {
		b.Fatal(err)
	}
	defer bt.Close()
	b.SetBytes(int64(recs[0].Size()))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := bt.Add(recs[i&1023]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkShardAggregator aggregates records per shard of a 16-shard map;
// one op is one record.
func BenchmarkShardAggregator(b *testing.B) {
	recs := benchRecords(1024, 512)
	m, err := NewShardMap(evenShards(b, 16))
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewShardAggregator(m)
	if err != nil {
		b.Fatal(err)
	}
	discard := func(Record) error { return nil }
	b.SetBytes(int64(recs[0].Size()))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := s.Add(recs[i&1023], discard); err != nil {
			b.Fatal(err)
		}
		i++
	}
	_ = s.Flush(discard)
}
