package gold_test

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/jobs/gold"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/schema"
)

var errInjected = errors.New("injected commit failure")

// failCommits fails every commit to the table named fail.
type failCommits struct {
	*catalog.Catalog
	fail string
}

func (f failCommits) Commit(ctx context.Context, t schema.Table, build func(*table.Table, *table.Transaction) error) (*table.Table, error) {
	if t.String() == f.fail {
		return nil, errInjected
	}
	return f.Catalog.Commit(ctx, t, build)
}

// dataFiles lists the Parquet files under a table's folder and those its
// current snapshot references.
func dataFiles(t *testing.T, l laketest.Lake, tb schema.Table) (onDisk, referenced map[string]bool) {
	t.Helper()
	tbl, err := l.Cat.Load(context.Background(), tb)
	if err != nil {
		t.Fatal(err)
	}
	onDisk, referenced = map[string]bool{}, map[string]bool{}
	root := strings.TrimPrefix(tbl.Location(), "file://")
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			onDisk[p] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if tbl.CurrentSnapshot() != nil {
		tasks, err := tbl.Scan().PlanFiles(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			referenced[strings.TrimPrefix(task.File.FilePath(), "file://")] = true
		}
	}
	return onDisk, referenced
}

// TestBuildRemovesUncommittedFiles: when a commit fails, the tables
// committed before it keep their new build, and no data file of the
// failed or later tables is left behind.
func TestBuildRemovesUncommittedFiles(t *testing.T) {
	ctx := context.Background()
	l := laketest.New(t)
	if err := l.Cat.Ensure(ctx, schema.Gold()...); err != nil {
		t.Fatal(err)
	}
	if _, err := gen.Run(ctx, l.Store, gen.Options{Seed: 5, Days: 1, ImpressionsPerDay: 2000}); err != nil {
		t.Fatal(err)
	}
	ingest(t, l, "ingest-1")
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	cat := failCommits{Catalog: l.Cat, fail: schema.GoldCampaignDaily.String()}
	rep, err := gold.Build(ctx, cat, day, gold.Options{RunID: "gold-fail"})
	if !errors.Is(err, errInjected) {
		t.Fatalf("Build: %v, want the injected failure", err)
	}
	if rep.Commits != 1 || rep.Rows[schema.GoldAttributedConversions.String()] == 0 {
		t.Fatalf("report %+v: want attributed_conversions alone committed, with rows", rep)
	}
	for _, tb := range schema.Gold() {
		onDisk, referenced := dataFiles(t, l, tb)
		if tb.Name == schema.GoldAttributedConversions.Name && len(referenced) == 0 {
			t.Errorf("%s: nothing committed", tb)
		}
		for p := range onDisk {
			if !referenced[p] {
				t.Errorf("%s: uncommitted data file left: %s", tb, p)
			}
		}
	}
}
