package quality

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// nullRates checks the monitored columns of every silver table (its
// Monitored field), in feed order. It reads null counts from the data
// files' column statistics, so the check costs no data scan.
func (c *Checker) nullRates(ctx context.Context, d time.Time) ([]Result, error) {
	var out []Result
	for _, feed := range schema.Feeds {
		for _, t := range feed.Silver {
			rs, err := c.nullRatesOf(ctx, t, d)
			if err != nil {
				return nil, err
			}
			out = append(out, rs...)
		}
	}
	return out, nil
}

// nullRatesOf checks the monitored columns of t on date d.
func (c *Checker) nullRatesOf(ctx context.Context, t schema.Table, d time.Time) ([]Result, error) {
	if len(t.Monitored) == 0 {
		return nil, nil
	}
	fs, err := files(ctx, c.cat, t, onDates(schema.ColEventDate, d, d))
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, col := range t.Monitored {
		nulls, rows, err := nullCount(fs, t, col)
		if err != nil {
			return nil, err
		}
		r := Result{Date: d, Table: t.String(), Partition: fmt.Sprintf("event_date=%s/column=%s", d.Format(time.DateOnly), col)}
		out = append(out, rate(r, NullRate, nulls, rows, "rows null", c.lim.NullRate))
	}
	return out, nil
}

// nullCount sums a column's null count and the row count over files.
func nullCount(fs []iceberg.DataFile, t schema.Table, col string) (nulls, rows int64, err error) {
	id, err := fieldID(t, col)
	if err != nil {
		return 0, 0, err
	}
	for _, f := range fs {
		n, ok := f.NullValueCounts()[id]
		if !ok {
			return 0, 0, fmt.Errorf("%s: data file %s has no null count for %s", t, f.FilePath(), col)
		}
		nulls += n
		rows += f.Count()
	}
	return nulls, rows, nil
}

// unknownCreatives is the share of a date's impressions whose creative is
// not in ref.creatives (silver keeps them with a null campaign_id).
func (c *Checker) unknownCreatives(ctx context.Context, d time.Time) ([]Result, error) {
	t := schema.SilverImpressions
	fs, err := files(ctx, c.cat, t, onDates(schema.ColEventDate, d, d))
	if err != nil {
		return nil, err
	}
	nulls, rows, err := nullCount(fs, t, "campaign_id")
	if err != nil {
		return nil, err
	}
	r := Result{Date: d, Table: t.String(), Partition: "event_date=" + d.Format(time.DateOnly)}
	return []Result{rate(r, UnknownCreative, nulls, rows, "impressions with a creative unknown to ref.creatives", c.lim.UnknownCreative)}, nil
}

// orphanClicks is the share of a date's clicks (of known users) with no
// impression of the same user and campaign in the 24 hours up to the
// click. Memory is bounded by the date's clicks: impressions stream past.
func (c *Checker) orphanClicks(ctx context.Context, d time.Time) ([]Result, error) {
	clicks := map[string][]int64{} // user|campaign -> click times; matched ones become MinInt64
	total := int64(0)
	err := scanKeys(ctx, c.cat, schema.SilverClicks, d, d, func(key string, ts int64) {
		clicks[key] = append(clicks[key], ts)
		total++
	})
	if err != nil {
		return nil, err
	}
	window := int64(24 * time.Hour / time.Microsecond)
	err = scanKeys(ctx, c.cat, schema.SilverImpressions, d.AddDate(0, 0, -1), d, func(key string, ts int64) {
		times := clicks[key]
		for i, ct := range times {
			if ct != math.MinInt64 && ts <= ct && ct-ts <= window {
				times[i] = math.MinInt64
			}
		}
	})
	if err != nil {
		return nil, err
	}
	var orphans int64
	for _, times := range clicks {
		for _, ct := range times {
			if ct != math.MinInt64 {
				orphans++
			}
		}
	}
	r := Result{Date: d, Table: schema.SilverClicks.String(), Partition: "event_date=" + d.Format(time.DateOnly)}
	return []Result{rate(r, OrphanClicks, orphans, total, "clicks with no impression of the user and campaign in the 24 h before", c.lim.OrphanClicks)}, nil
}

// scanKeys calls fn with "user_key|campaign_id" and event_ts (µs) of t's
// rows on event dates [from, to] that have both.
func scanKeys(ctx context.Context, cat catalog.Loader, t schema.Table, from, to time.Time, fn func(string, int64)) error {
	recs, err := batches(ctx, cat, t, onDates(schema.ColEventDate, from, to), "user_key", "campaign_id", "event_ts")
	if err != nil {
		return err
	}
	for rec, err := range recs {
		if err != nil {
			return fmt.Errorf("scan %s: %w", t, err)
		}
		user, camp := column[*array.String](rec, "user_key"), column[*array.String](rec, "campaign_id")
		ts := column[*array.Timestamp](rec, "event_ts")
		for i := 0; i < int(rec.NumRows()); i++ {
			if user.IsNull(i) || camp.IsNull(i) {
				continue
			}
			fn(user.Value(i)+"|"+camp.Value(i), int64(ts.Value(i)))
		}
		rec.Release()
	}
	return nil
}
