// Package laketest gives tests a fresh embedded lakehouse: a local landing
// folder, a SQLite catalog and a local warehouse, with every table created.
package laketest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

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
	return OpenCatalog(t, dir, filepath.Join(dir, "catalog.db"))
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

// PostgresURL returns the URL of a fresh, empty PostgreSQL database on the
// server `make test` starts (ADLAKE_TEST_POSTGRES), or "" when there is
// none outside CI. Under CI the server is mandatory.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("ADLAKE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: ADLAKE_TEST_POSTGRES not set; localstack/up.sh must start PostgreSQL")
		}
		return ""
	}
	admin := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(base)))
	defer admin.Close()
	name := fmt.Sprintf("adlake_test_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// OpenCatalog opens a lakehouse whose catalog is at uri (a SQLite path or a
// PostgreSQL URL) and whose landing and warehouse are under dir.
func OpenCatalog(t testing.TB, dir, uri string) Lake {
	t.Helper()
	store, err := objstore.NewLocal(filepath.Join(dir, "landing"))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Open(context.Background(), catalog.Options{URI: uri, Warehouse: filepath.Join(dir, "warehouse")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	if err := cat.Ensure(context.Background(), schema.All()...); err != nil {
		t.Fatal(err)
	}
	return Lake{Dir: dir, Store: store, Cat: cat}
}

// Catalogs returns the catalogs a test should run against: the embedded
// SQLite one always, and PostgreSQL (a fresh database) when `make test`
// started one (mandatory under CI).
func Catalogs(t testing.TB) map[string]catalog.Options {
	t.Helper()
	dir := t.TempDir()
	out := map[string]catalog.Options{
		"sqlite": {URI: filepath.Join(dir, "catalog.db"), Warehouse: filepath.Join(dir, "warehouse-sqlite")},
	}
	if url := PostgresURL(t); url != "" {
		out["postgres"] = catalog.Options{URI: url, Warehouse: filepath.Join(dir, "warehouse-postgres")}
	}
	return out
}
