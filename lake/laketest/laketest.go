// Package laketest gives tests a fresh embedded lakehouse: a local landing
// folder, a SQLite catalog and a local warehouse, with every table created.
package laketest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/schema"
)

// Lake is one test lakehouse.
type Lake struct {
	Dir   string
	Store *objstore.Local
	Cat   *catalog.Catalog
}

// New returns a lakehouse under t.TempDir(), closed at the end of the test.
func New(t testing.TB) Lake {
	t.Helper()
	return Open(t, t.TempDir())
}

// Open opens (creating when needed) the lakehouse laid out in dir as the
// embedded default lays it out: landing/, warehouse/, catalog.db.
func Open(t testing.TB, dir string) Lake {
	t.Helper()
	store, err := objstore.NewLocal(filepath.Join(dir, "landing"))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Open(context.Background(), catalog.Options{
		URI: filepath.Join(dir, "catalog.db"), Warehouse: filepath.Join(dir, "warehouse"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	if err := cat.Ensure(context.Background(), schema.All()...); err != nil {
		t.Fatal(err)
	}
	return Lake{Dir: dir, Store: store, Cat: cat}
}

// Rows counts the rows of a table from its data files' metadata.
func (l Lake) Rows(t testing.TB, tb schema.Table) int64 {
	t.Helper()
	tbl, err := l.Cat.Load(context.Background(), tb)
	if err != nil {
		t.Fatal(err)
	}
	if tbl.CurrentSnapshot() == nil {
		return 0
	}
	tasks, err := tbl.Scan().PlanFiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, task := range tasks {
		n += task.File.Count()
	}
	return n
}
