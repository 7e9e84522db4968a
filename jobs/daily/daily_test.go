package daily_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/advertisex/adlake/jobs/alert"
	"github.com/advertisex/adlake/jobs/alert/channel"
	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/daily"
	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/jobs/gold"
	"github.com/advertisex/adlake/jobs/quality"
	"github.com/advertisex/adlake/jobs/reference"
	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/lake/lock"
	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

var day1 = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// lake returns an embedded lake holding two generated days in silver.
func lake(t *testing.T) laketest.Lake {
	t.Helper()
	ctx := context.Background()
	l := laketest.New(t)
	if _, err := gen.Run(ctx, l.Store, gen.Options{Seed: 5, Start: day1, Days: 2, ImpressionsPerDay: 3000, Defects: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := bronze.Run(ctx, l.Store, l.Cat, bronze.Options{RunID: "in"}); err != nil {
		t.Fatal(err)
	}
	if err := reference.Load(ctx, l.Store, l.Cat, nil, "in", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := silver.Run(ctx, l.Cat, silver.Options{RunID: "in", PseudonymKey: "k"}); err != nil {
		t.Fatal(err)
	}
	return l
}

// fakeSender counts the alert messages delivered.
type fakeSender struct {
	mu   sync.Mutex
	sent []channel.Message
}

func (f *fakeSender) Deliver(_ context.Context, m channel.Message) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, m)
	return []string{"fake"}, nil
}

func deps(l laketest.Lake, out alert.Deliverer) daily.Deps {
	return daily.Deps{Catalog: l.Cat, Locks: lock.For(l.Cat), Alerter: alert.NewAlerter(l.Cat, "rb", out, nil)}
}

// nonBotConversions counts silver's non-bot conversions of day: what
// gold.attributed_conversions must hold for it (SPEC §3).
func nonBotConversions(t *testing.T, l laketest.Lake, day time.Time) int64 {
	t.Helper()
	type conv struct {
		Date  time.Time `col:"event_date"`
		IsBot bool      `col:"is_bot"`
	}
	tbl, err := l.Cat.Load(context.Background(), schema.SilverConversions)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for c, err := range rows.Scan[conv](context.Background(), tbl, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Date.Equal(day) && !c.IsBot {
			n++
		}
	}
	return n
}

// TestRunBuildsStaleDatesOnceWithCheckedMemory: the daily job for day 2
// builds every date of its re-statement window once (none was built),
// each gold partition of day 2 holds exactly silver's non-bot conversions,
// every Arrow buffer is released, and a second run builds nothing.
func TestRunBuildsStaleDatesOnceWithCheckedMemory(t *testing.T) {
	ctx := context.Background()
	l := lake(t)
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	lim := quality.DefaultLimits()
	o := daily.Options{Quality: &lim, HoldGold: true, Gold: gold.Options{Alloc: alloc, Windows: gold.DefaultWindows}}
	day2 := day1.AddDate(0, 0, 1)
	rep, err := daily.Run(ctx, deps(l, nil), o, day2)
	if err != nil {
		t.Fatal(err)
	}
	alloc.AssertSize(t, 0)
	want := daily.RestateDays(gold.DefaultWindows) + 1
	if len(rep.Outcomes) != want {
		t.Fatalf("%d dates built, want %d (the re-statement window)", len(rep.Outcomes), want)
	}
	for _, out := range rep.Outcomes {
		if out.Status != daily.Built {
			t.Fatalf("date %s: %s (%s)", out.Date, out.Status, out.Error)
		}
	}
	last := rep.Outcomes[len(rep.Outcomes)-1]
	if got, want := last.Rows[schema.GoldAttributedConversions.String()], nonBotConversions(t, l, day2); last.Date != "2026-11-26" || got != want || want == 0 {
		t.Fatalf("%s: %d attributed conversions, want %d", last.Date, got, want)
	}
	recent, err := runs.Recent(ctx, l.Cat, 100)
	if err != nil {
		t.Fatal(err)
	}
	builds := 0
	for _, r := range recent {
		if r.Job == schema.JobGold && r.Status == schema.RunOK && r.Inputs != "" {
			builds++
		}
	}
	if builds != want {
		t.Fatalf("ops.runs holds %d gold builds, want %d", builds, want)
	}
	again, err := daily.Run(ctx, deps(l, nil), o, day2)
	if err != nil || len(again.Outcomes) != 0 {
		t.Fatalf("second run: %d dates, %v; want none", len(again.Outcomes), err)
	}
}

// TestHeldDate: a failed partition check of a date holds its gold back:
// status held, the job's error is quality.ErrFailed, ops.runs says held,
// and nothing of the date is published.
func TestHeldDate(t *testing.T) {
	ctx := context.Background()
	l := lake(t)
	fail := quality.Result{Date: day1, Check: quality.RowCount, Table: schema.SilverImpressions.String(),
		Partition: "event_date=2026-11-25/hour=13", Observed: 1, Low: 50, High: 90, Expected: "50..90", Status: quality.Fail}
	if err := quality.Record(ctx, l.Cat, quality.JobRun{ID: "q", Job: schema.JobQuality, At: time.Now()}, []quality.Result{fail}); err != nil {
		t.Fatal(err)
	}
	rep, err := daily.Backfill(ctx, deps(l, nil), daily.Options{HoldGold: true}, day1, day1)
	if !errors.Is(err, quality.ErrFailed) || len(rep.Outcomes) != 1 || rep.Outcomes[0].Status != daily.Held {
		t.Fatalf("outcomes %+v, err %v; want one held date and quality.ErrFailed", rep.Outcomes, err)
	}
	if n := l.Rows(t, schema.GoldAttributedConversions); n != 0 {
		t.Fatalf("a held date published %d rows", n)
	}
	recent, _ := runs.Recent(ctx, l.Cat, 10)
	if len(recent) != 1 || recent[0].Status != schema.RunHeld {
		t.Fatalf("ops.runs %+v, want one held row", recent)
	}
}

// TestBackfillSendsNoAlertsRunDoes: with a threshold every date breaks
// (any null user_key warns), the daily job alerts and a backfill over the
// same date records the same results without a single message.
func TestBackfillSendsNoAlertsRunDoes(t *testing.T) {
	ctx := context.Background()
	l := lake(t)
	lim := quality.DefaultLimits()
	lim.NullRate = quality.Threshold{Warn: 1e-9, Severity: "warn"}
	sender := &fakeSender{}
	o := daily.Options{Quality: &lim, Parallel: 2, Force: true}
	if _, err := daily.Backfill(ctx, deps(l, sender), o, day1, day1.AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	if len(sender.sent) != 0 {
		t.Fatalf("a backfill sent %d alerts", len(sender.sent))
	}
	if _, err := daily.Run(ctx, deps(l, sender), o, day1.AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	nullWarns := 0
	for _, m := range sender.sent {
		if m.Check == quality.NullRate && m.State == channel.Firing {
			nullWarns++
		}
	}
	if nullWarns == 0 || nullWarns != len(sender.sent) {
		t.Fatalf("daily sent %d messages, %d of them null_rate firing; want only null_rate firing, at least one", len(sender.sent), nullWarns)
	}
}

// TestParallelBackfillBuildsEachDateOnce: --parallel 2 --force over two
// dates builds each once, splitting the budget.
func TestParallelBackfillBuildsEachDateOnce(t *testing.T) {
	ctx := context.Background()
	l := lake(t)
	rep, err := daily.Backfill(ctx, deps(l, nil), daily.Options{Parallel: 2, Force: true}, day1, day1.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, o := range rep.Outcomes {
		seen[o.Date]++
	}
	if len(seen) != 2 || seen["2026-11-25"] != 1 || seen["2026-11-26"] != 1 {
		t.Fatalf("outcomes %+v", rep.Outcomes)
	}
	total := nonBotConversions(t, l, day1) + nonBotConversions(t, l, day1.AddDate(0, 0, 1))
	if n := l.Rows(t, schema.GoldAttributedConversions); n != total {
		t.Fatalf("gold.attributed_conversions holds %d rows, want %d", n, total)
	}
}

// TestASecondJobGetsTheLock: while the gold lock is held, the job fails at
// once with a conflict (exit 4).
func TestASecondJobGetsTheLock(t *testing.T) {
	l := laketest.New(t)
	locks := lock.For(l.Cat)
	unlock, err := locks.Lock(context.Background(), lock.Gold)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	other := laketest.Open(t, l.Dir) // another process, as far as locks go
	_, err = daily.Run(context.Background(), daily.Deps{Catalog: other.Cat, Locks: lock.For(other.Cat)}, daily.Options{}, day1)
	if !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("err = %v, want catalog.ErrConflict", err)
	}
}
