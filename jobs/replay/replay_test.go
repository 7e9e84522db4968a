package replay_test

import (
	"context"
	"testing"

	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/jobs/reference"
	"github.com/advertisex/adlake/jobs/replay"
	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/lake/lock"
	"github.com/advertisex/adlake/schema"
)

// ingest runs bronze, reference and silver, as `adlake ingest` does.
func ingest(t *testing.T, f laketest.Lake, runID string) {
	t.Helper()
	ctx := context.Background()
	if _, err := bronze.Run(ctx, f.Store, f.Cat, bronze.Options{RunID: runID, MaxFilesPerCommit: 7}); err != nil {
		t.Fatal(err)
	}
	if err := reference.Load(ctx, f.Store, f.Cat, nil, runID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := silver.Run(ctx, f.Cat, silver.Options{RunID: runID, PseudonymKey: "test-key", MaxRowsPerPass: 5000}); err != nil {
		t.Fatal(err)
	}
}

func TestReplayAfterAcceptingANewValue(t *testing.T) {
	f := laketest.New(t)
	m, err := gen.Run(context.Background(), f.Store, gen.Options{Seed: 9, Days: 2, ImpressionsPerDay: 3000, Defects: true})
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, f, "run-1")
	cc := m.Feeds["clicks_conversions"]
	refunds := cc.Kinds["refund_conversion"]
	if refunds == 0 || cc.InvalidValue <= refunds {
		t.Fatalf("generator: %d refunds of %d invalid values", refunds, cc.InvalidValue)
	}
	before := f.Rows(t, schema.SilverConversions)
	run := func(runID string) replay.Report {
		rep, err := replay.Run(context.Background(), f.Cat, lock.For(f.Cat),
			silver.Options{RunID: runID, PseudonymKey: "test-key", ExtraConversionTypes: []string{"Refund"}},
			replay.Filter{Feed: "clicks_conversions", Reason: "invalid_value"})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := run("replay-1")
	got := rep.Feeds["clicks_conversions"]
	if rep.Selected != cc.InvalidValue || got["accepted"] != refunds || got["rejected"] != cc.InvalidValue-refunds || got["duplicate"] != 0 {
		t.Fatalf("replay: selected %d, outcomes %v; want %d selected, %d accepted, %d rejected", rep.Selected, got, cc.InvalidValue, refunds, cc.InvalidValue-refunds)
	}
	if after := f.Rows(t, schema.SilverConversions); after != before+refunds {
		t.Fatalf("silver.conversions %d -> %d, want +%d", before, after, refunds)
	}
	if n := f.Rows(t, schema.Replays); n != cc.InvalidValue {
		t.Fatalf("ops.replays rows = %d, want %d", n, cc.InvalidValue)
	}
	// Replayed rows are no longer open: a second replay does nothing.
	if rep2 := run("replay-2"); rep2.Selected != 0 {
		t.Fatalf("second replay selected %d rows", rep2.Selected)
	}
	if after := f.Rows(t, schema.SilverConversions); after != before+refunds {
		t.Fatalf("second replay changed silver.conversions to %d", after)
	}
}
