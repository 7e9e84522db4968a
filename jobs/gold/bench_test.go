package gold

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// benchRows are keyed sort rows of the shape Build sorts: keys of a
// (user, campaign) group, time and id, values of creative and site
// (impressions and clicks) or advertiser, type and value (conversions).
type benchRows struct {
	keys, vals [][]byte
}

// benchEvents makes n events of kind ("imp", "clk" or "cnv") spread over
// groups (user, campaign) groups and the span of days before the end of
// benchDay, in random order.
func benchEvents(rng *rand.Rand, kind string, n, groups int, span time.Duration) benchRows {
	end := benchDay.Add(24 * time.Hour).UnixMicro()
	r := benchRows{keys: make([][]byte, n), vals: make([][]byte, n)}
	for i := range n {
		g := rng.IntN(groups)
		user, campaign := fmt.Sprintf("%032x", uint64(g)*0x9e3779b97f4a7c15), fmt.Sprintf("cmp-%03d", g%40)
		ts := end - rng.Int64N(span.Microseconds())
		id := fmt.Sprintf("%s-%012d", kind, i)
		r.keys[i] = appendKey(nil, groupHash(user, campaign), user, campaign, ts, id)
		if kind == "cnv" {
			r.vals[i] = conversionValue(nil, some("adv-01"), "purchase", some(12.5))
		} else {
			r.vals[i] = impressionValue(nil, some(fmt.Sprintf("cr-%04d", g%200)), some(fmt.Sprintf("site%03d.example.com", g%500)))
		}
	}
	return r
}

var benchDay = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// sorted returns r ordered by key, as a Sorter returns it.
func (r benchRows) sorted() benchRows {
	idx := make([]int, len(r.keys))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return bytes.Compare(r.keys[a], r.keys[b]) })
	out := benchRows{keys: make([][]byte, len(idx)), vals: make([][]byte, len(idx))}
	for i, j := range idx {
		out.keys[i], out.vals[i] = r.keys[j], r.vals[j]
	}
	return out
}

// sliceRows iterates over benchRows (a rowIter).
type sliceRows struct {
	r benchRows
	i int
}

func (s *sliceRows) Next() bool    { s.i++; return s.i <= len(s.r.keys) }
func (s *sliceRows) Key() []byte   { return s.r.keys[s.i-1] }
func (s *sliceRows) Value() []byte { return s.r.vals[s.i-1] }
func (s *sliceRows) Err() error    { return nil }

// BenchmarkSorter sorts 1M impression-shaped rows (about 110 bytes each)
// in memory, with spills merged in one pass, and with more runs than
// maxFanIn (merge passes).
func BenchmarkSorter(b *testing.B) {
	const n = 1 << 20
	rows := benchEvents(rand.New(rand.NewPCG(1, 2)), "imp", n, 50_000, 8*24*time.Hour)
	for _, c := range []struct {
		name   string
		budget int64
	}{
		{"memory/1M", 1 << 30},
		{"spill/1M", 16 << 20},
		{"spill-multipass/1M", 1 << 20},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			dir := b.TempDir()
			var st SortStats
			for b.Loop() {
				st = sortBench(b, rows, c.budget, dir)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
			b.ReportMetric(float64(st.SpillFiles), "spill-files/op")
		})
	}
}

// sortBench adds rows to a new sorter and reads them back in order.
func sortBench(b *testing.B, rows benchRows, budget int64, dir string) SortStats {
	s := NewSorter(SorterOptions{MemoryBudget: budget, Dir: dir})
	defer s.Close()
	for i := range rows.keys {
		if err := s.Add(rows.keys[i], rows.vals[i]); err != nil {
			b.Fatal(err)
		}
	}
	it, err := s.Rows(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer it.Close()
	var got int
	for it.Next() {
		got++
	}
	if it.Err() != nil || got != len(rows.keys) {
		b.Fatalf("read %d rows of %d: %v", got, len(rows.keys), it.Err())
	}
	return s.Stats()
}

// BenchmarkWalk runs the attribution walk over sorted streams shaped like
// a day of Build: per million impressions (after the semi-join) about
// 35,000 clicks over the click window and 2,000 conversions of the date,
// over 50,000 groups; and a conversion-heavy variant.
func BenchmarkWalk(b *testing.B) {
	for _, c := range []struct {
		name                string
		imps, clicks, convs int
	}{
		{"imps=1M/clicks=35k/convs=2k", 1 << 20, 35_000, 2_000},
		{"imps=1M/clicks=200k/convs=50k", 1 << 20, 200_000, 50_000},
	} {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 4))
			imps := benchEvents(rng, "imp", c.imps, 50_000, 8*24*time.Hour).sorted()
			clicks := benchEvents(rng, "clk", c.clicks, 50_000, 7*24*time.Hour).sorted()
			convs := benchEvents(rng, "cnv", c.convs, 50_000, 24*time.Hour).sorted()
			b.ReportAllocs()
			var n int
			for b.Loop() {
				n = 0
				err := walk(context.Background(), DefaultWindows, &sliceRows{r: imps}, &sliceRows{r: clicks}, &sliceRows{r: convs},
					func(attributed) error { n++; return nil })
				if err != nil {
					b.Fatal(err)
				}
			}
			if n != c.convs {
				b.Fatalf("%d conversions attributed, want %d", n, c.convs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(c.imps+c.clicks+c.convs)), "ns/row")
		})
	}
}
