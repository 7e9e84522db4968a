package rows_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/schema"
)

func arrowOf(t *testing.T, ice *iceberg.Schema) *arrow.Schema {
	t.Helper()
	sc, err := table.SchemaToArrowSchema(ice, nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestRowTypesMatchTheirTables builds one row of every ops row type
// against its table's declared schema: every tag names a column of a type
// the field can fill, and every required column is a field.
func TestRowTypesMatchTheirTables(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	check := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	b1, err := rows.NewBuilder[schema.QuarantineRow](alloc, arrowOf(t, schema.Quarantine.Schema))
	check("quarantine", err)
	b2, err := rows.NewBuilder[schema.RunRow](alloc, arrowOf(t, schema.Runs.Schema))
	check("runs", err)
	b3, err := rows.NewBuilder[schema.ReplayRow](alloc, arrowOf(t, schema.Replays.Schema))
	check("replays", err)
	b4, err := rows.NewBuilder[schema.DQResultRow](alloc, arrowOf(t, schema.DQResults.Schema))
	check("dq_results", err)
	b5, err := rows.NewBuilder[schema.AlertRow](alloc, arrowOf(t, schema.Alerts.Schema))
	check("alerts", err)
	for _, b := range []interface{ Release() }{b1, b2, b3, b4, b5} {
		if b != nil {
			b.Release()
		}
	}
}

func TestNewBuilderRefusesMismatches(t *testing.T) {
	type noSuchColumn struct {
		X string `col:"no_such_column"`
	}
	type wrongType struct {
		Feed int64 `col:"feed"`
	}
	type missesRequired struct {
		Feed string `col:"feed"`
	}
	sc := arrowOf(t, schema.Quarantine.Schema)
	for name, err := range map[string]error{
		"no such column":   func() error { _, err := rows.NewBuilder[noSuchColumn](nil, sc); return err }(),
		"wrong type":       func() error { _, err := rows.NewBuilder[wrongType](nil, sc); return err }(),
		"missing required": func() error { _, err := rows.NewBuilder[missesRequired](nil, sc); return err }(),
	} {
		if err == nil {
			t.Errorf("%s: NewBuilder succeeded", name)
		}
	}
}

// TestAppendAndScanRoundTrip writes rows with every null convention and
// reads them back equal, through a real table.
func TestAppendAndScanRoundTrip(t *testing.T) {
	ctx := context.Background()
	l := laketest.New(t)
	off := int64(7)
	at := time.Date(2026, 11, 25, 13, 4, 5, 123456000, time.UTC)
	in := []schema.QuarantineRow{
		{Feed: "impressions", SourceFile: "a", Offset: &off, Stage: schema.StageBronze, Reason: "malformed",
			Detail: "bad", LandingDate: at.Truncate(24 * time.Hour), RunID: "r", At: at},
		{Feed: "impressions", SourceFile: "b", Stage: schema.StageBronze, Reason: "unreadable_file",
			LandingDate: at.Truncate(24 * time.Hour), RunID: "r", At: at},
	}
	in[0].SetRaw([]byte{0, 1, 2}, true)
	in[1].SetRaw(nil, false)
	if err := rows.Append(ctx, l.Cat, schema.Quarantine, in, iceberg.Properties{"adlake.job": "test"}); err != nil {
		t.Fatal(err)
	}
	tbl, err := l.Cat.Load(ctx, schema.Quarantine)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rows.Collect(rows.Scan[schema.QuarantineRow](ctx, tbl, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d rows, want 2", len(got))
	}
	byFile := map[string]schema.QuarantineRow{}
	for _, r := range got {
		byFile[r.SourceFile] = r
	}
	a, b := byFile["a"], byFile["b"]
	if a.Offset == nil || *a.Offset != 7 || a.Records != nil || a.Raw != "AAEC" || a.RawEncoding != "base64" || !a.At.Equal(at) || a.Detail != "bad" {
		t.Errorf("row a = %+v", a)
	}
	if b.Offset != nil || b.Raw != "" || b.RawEncoding != "text" || b.Detail != "" {
		t.Errorf("row b = %+v", b)
	}
}

// TestEvolvedTableKeepsOldWritersWorking: a table that gained an optional
// column at the end still takes rows of the old type (the new column is
// null) and still reads into it; positional writers panicked there.
func TestEvolvedTableKeepsOldWritersWorking(t *testing.T) {
	ctx := context.Background()
	l := laketest.New(t)
	_, err := l.Cat.Commit(ctx, schema.Runs, func(_ *table.Table, tx *table.Transaction) error {
		u := tx.UpdateSchema(true, false)
		u.AddColumn([]string{"operator_note"}, iceberg.PrimitiveTypes.String, "", false, nil)
		return u.Commit()
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	in := []schema.RunRow{{RunID: "r1", Job: schema.JobIngest, Feed: "impressions", Status: schema.RunOK, Started: now, Finished: now, RowsOut: 5}}
	if err := rows.Append(ctx, l.Cat, schema.Runs, in, nil); err != nil {
		t.Fatal(err)
	}
	tbl, _ := l.Cat.Load(ctx, schema.Runs)
	got, err := rows.Collect(rows.Scan[schema.RunRow](ctx, tbl, nil))
	if err != nil || len(got) != 1 || got[0].RowsOut != 5 || !got[0].WindowStart.IsZero() {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestRequiredNullIsAnError(t *testing.T) {
	b, err := rows.NewBuilder[schema.RunRow](nil, arrowOf(t, schema.Runs.Schema))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	err = b.Add(&schema.RunRow{RunID: "r", Job: "j", Feed: "f", Status: "ok"}) // no Started
	if err == nil || !strings.Contains(err.Error(), "started_at") {
		t.Fatalf("err = %v, want started_at required", err)
	}
}

func TestNaNIsNullAndBack(t *testing.T) {
	ctx := context.Background()
	l := laketest.New(t)
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	in := []schema.DQResultRow{{Date: now, Check: "c", Table: "t", Observed: math.NaN(), Low: 0, High: math.NaN(),
		Expected: "any", Status: "pass", Job: "j", RunID: "r", At: now}}
	if err := rows.Append(ctx, l.Cat, schema.DQResults, in, nil); err != nil {
		t.Fatal(err)
	}
	tbl, _ := l.Cat.Load(ctx, schema.DQResults)
	got, err := rows.Collect(rows.Scan[schema.DQResultRow](ctx, tbl, nil))
	if err != nil || len(got) != 1 || !math.IsNaN(got[0].Observed) || !math.IsNaN(got[0].High) || got[0].Low != 0 || got[0].Partition != "" {
		t.Fatalf("got %+v, %v", got, err)
	}
}
