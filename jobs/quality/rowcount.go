package quality

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// hourPartition names one event hour of a silver table.
func hourPartition(d time.Time, h int) string {
	return fmt.Sprintf("event_date=%s/hour=%02d", d.Format(time.DateOnly), h)
}

// rowCounts judges every settled event hour of d of every silver table
// against the same hour of the week in the trailing weeks, as recorded in
// ops.dq_results by earlier (non-backfill) runs.
func (c *Checker) rowCounts(ctx context.Context, d time.Time) ([]Result, error) {
	lim := c.lim.RowCount
	var past []time.Time
	for k := 1; k <= lim.Weeks; k++ {
		past = append(past, d.AddDate(0, 0, -7*k))
	}
	hist, err := history(ctx, c.cat, RowCount, past)
	if err != nil {
		return nil, err
	}
	settled := c.asOf.Add(-time.Duration(lim.SettleMin) * time.Minute)
	var out []Result
	for _, t := range schema.Silver() {
		counts, err := hourly(ctx, c.cat, t, d)
		if err != nil {
			return nil, err
		}
		for h := 0; h < 24; h++ {
			if d.Add(time.Duration(h+1) * time.Hour).After(settled) {
				break
			}
			var seen []float64
			for _, p := range past {
				if v, ok := hist[t.String()+"|"+hourPartition(p, h)]; ok {
					seen = append(seen, v)
				}
			}
			r := Result{Date: d, Check: RowCount, Table: t.String(), Partition: hourPartition(d, h), Observed: float64(counts[h])}
			out = append(out, c.judgeCount(r, seen))
		}
	}
	return out, nil
}

// judgeCount grades a count against its history with a robust z-score:
// the deviation from the median in units of max(1.4826·MAD, √median, 1),
// the last term the noise of a Poisson count.
func (c *Checker) judgeCount(r Result, seen []float64) Result {
	lim := c.lim.RowCount
	r.Low, r.High, r.Status = math.NaN(), math.NaN(), Pass
	if len(seen) < lim.MinHistory {
		r.Expected = fmt.Sprintf("learning: %d of %d weeks of history", len(seen), lim.MinHistory)
		return r
	}
	med := median(seen)
	dev := make([]float64, len(seen))
	for i, v := range seen {
		dev[i] = math.Abs(v - med)
	}
	mad := median(dev)
	if med < lim.MinMedian {
		r.Expected = fmt.Sprintf("not judged: median %s is below min_median %s", num(med), num(lim.MinMedian))
		return r
	}
	scale := math.Max(math.Max(1.4826*mad, math.Sqrt(med)), 1)
	z := math.Abs(r.Observed-med) / scale
	switch {
	case lim.Fail > 0 && z > lim.Fail:
		r.Status = Fail
	case lim.Warn > 0 && z > lim.Warn:
		r.Status = Warn
	}
	r.Status = capped(r.Status, lim.Severity)
	r.Low, r.High = math.Max(0, med-lim.Warn*scale), med+lim.Warn*scale
	r.Expected = fmt.Sprintf("%s to %s (median %s, MAD %s over %d weeks)", num(math.Round(r.Low)), num(math.Round(r.High)), num(med), num(mad), len(seen))
	r.Detail = fmt.Sprintf("%.1f robust deviations from the median", z)
	return r
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// hourly counts t's rows of event date d by UTC hour of event_ts.
func hourly(ctx context.Context, cat catalog.Loader, t schema.Table, d time.Time) ([24]int64, error) {
	var counts [24]int64
	recs, err := batches(ctx, cat, t, onDates(schema.ColEventDate, d, d), "event_ts")
	if err != nil {
		return counts, err
	}
	start := d.UnixMicro()
	for rec, err := range recs {
		if err != nil {
			return counts, fmt.Errorf("scan %s: %w", t, err)
		}
		ts := column[*array.Timestamp](rec, "event_ts")
		for i := 0; i < ts.Len(); i++ {
			if h := (int64(ts.Value(i)) - start) / int64(time.Hour/time.Microsecond); h >= 0 && h < 24 {
				counts[h]++
			}
		}
		rec.Release()
	}
	return counts, nil
}
