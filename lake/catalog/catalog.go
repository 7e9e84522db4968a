// Package catalog opens adlake's Iceberg catalog (a SQL catalog: embedded
// SQLite by default, PostgreSQL for shared deployments), creates the
// tables declared in package schema, and commits to them safely under
// concurrency.
//
// The catalog's tables are those of the Java JdbcCatalog
// (iceberg_tables, iceberg_namespace_properties), so Trino's and
// pyiceberg's JDBC/SQL catalogs read the same catalog under the same
// catalog name.
package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	_ "github.com/apache/iceberg-go/io/gocloud/s3" // s3:// warehouses
	"github.com/apache/iceberg-go/table"
	"github.com/uptrace/bun/driver/pgdriver"
	_ "modernc.org/sqlite" // the embedded catalog

	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/lake/secret"
	"github.com/advertisex/adlake/schema"
)

// Loader reads the current state of tables; *Catalog implements it.
type Loader interface {
	Load(ctx context.Context, t schema.Table) (*table.Table, error)
}

// Tables loads and commits tables: what every job needs of the catalog.
// *Catalog implements it; so does the kill tests' commit counter.
type Tables interface {
	Loader
	Commit(ctx context.Context, t schema.Table, build func(*table.Table, *table.Transaction) error) (*table.Table, error)
}

// ErrConflict means another adlake run did, or is doing, the same work:
// it committed the same landing files, advanced a derived table from the
// same bronze snapshot, or holds the lock of the same feed or job. Nothing
// of the run that gets it is visible; running again is safe (exit 4).
var ErrConflict = errors.New("another adlake run is working on the same data")

// DefaultName is the catalog name Trino and pyiceberg must use too.
const DefaultName = "adlake"

// Options configure Open.
type Options struct {
	// Name of the catalog (default DefaultName).
	Name string
	// URI is a SQLite file path (or "sqlite:PATH") or a PostgreSQL URL
	// ("postgres://user:pass@host:5432/db?sslmode=disable").
	URI string
	// Warehouse is the root of table data: a folder or "s3://bucket/prefix".
	Warehouse string
	// S3 configures an s3:// warehouse; credentials come from the AWS chain.
	S3 objstore.S3Options
	// Logger receives retry and creation messages; nil discards them.
	Logger *slog.Logger
	// Table properties applied to every table adlake creates (Parquet
	// codec, target file size, ...), merged over DefaultTableProperties.
	TableProperties map[string]string
}

// DefaultTableProperties are set on every table at creation.
var DefaultTableProperties = map[string]string{
	"format-version":                  "2",
	"write.parquet.compression-codec": "zstd",
	"write.parquet.compression-level": "1",
	"write.target-file-size-bytes":    "134217728", // 128 MiB
	"write.parquet.row-group-limit":   "65536",
	"commit.retry.num-retries":        "8",
}

// Catalog is an open catalog. It is safe for concurrent use.
type Catalog struct {
	cat        *sqlcat.Catalog
	db         *sql.DB
	warehouse  string // URL form: file:///abs or s3://bucket/prefix
	log        *slog.Logger
	props      map[string]string
	pg         bool   // the catalog is PostgreSQL
	sqlitePath string // else: the SQLite file
}

// Open connects to the catalog, creating its SQL tables when missing. Two
// processes opening a new SQLite catalog at the same moment contend for
// the switch to WAL mode, which SQLite reports as SQLITE_BUSY without
// waiting; Open retries that for a few seconds.
func Open(ctx context.Context, o Options) (*Catalog, error) {
	for attempt := 1; ; attempt++ {
		c, err := open(ctx, o)
		if err == nil || attempt == 20 || !strings.Contains(err.Error(), "SQLITE_BUSY") {
			return c, err
		}
		select {
		case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func open(ctx context.Context, o Options) (*Catalog, error) {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	warehouse, err := warehouseURL(o.Warehouse)
	if err != nil {
		return nil, err
	}
	db, dialect, err := openDB(o.URI)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("catalog %s: %w", secret.Redact(o.URI), err)
	}
	props := iceberg.Properties{"warehouse": warehouse}
	if o.S3.Endpoint != "" {
		props["s3.endpoint"] = o.S3.Endpoint
	}
	if o.S3.Region != "" {
		props["s3.region"] = o.S3.Region
	}
	// gocloud's S3 reads the AWS chain itself; passing the environment's
	// keys as properties keeps table IO and landing IO on the same
	// credentials. They are never logged.
	for env, prop := range map[string]string{
		"AWS_ACCESS_KEY_ID": "s3.access-key-id", "AWS_SECRET_ACCESS_KEY": "s3.secret-access-key", "AWS_SESSION_TOKEN": "s3.session-token",
	} {
		if v := os.Getenv(env); v != "" {
			props[prop] = v
		}
	}
	cat, err := sqlcat.NewCatalog(o.Name, db, dialect, props)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("catalog %s: %w", secret.Redact(o.URI), err)
	}
	tp := map[string]string{}
	for k, v := range DefaultTableProperties {
		tp[k] = v
	}
	for k, v := range o.TableProperties {
		tp[k] = v
	}
	return &Catalog{cat: cat, db: db, warehouse: warehouse, log: o.Logger, props: tp,
		pg: dialect == sqlcat.Postgres, sqlitePath: strings.TrimPrefix(o.URI, "sqlite:")}, nil
}

func openDB(uri string) (*sql.DB, sqlcat.SupportedDialect, error) {
	switch {
	case strings.HasPrefix(uri, "postgres://"), strings.HasPrefix(uri, "postgresql://"):
		return sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(uri))), sqlcat.Postgres, nil
	case strings.Contains(uri, "://"):
		return nil, "", fmt.Errorf("unsupported catalog %q: use a SQLite file path or postgres://", secret.Redact(uri))
	}
	path := strings.TrimPrefix(uri, "sqlite:")
	if path == "" {
		return nil, "", errors.New("catalog: empty SQLite path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, "", fmt.Errorf("catalog: %w", err)
	}
	// BEGIN IMMEDIATE: a transaction takes the write lock up front, so a
	// concurrent process waits (busy_timeout) instead of failing with
	// SQLITE_BUSY when a read transaction would have to upgrade.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	return db, sqlcat.SQLite, err
}

func warehouseURL(w string) (string, error) {
	switch {
	case w == "":
		return "", errors.New("catalog: no warehouse location")
	case strings.HasPrefix(w, "s3://"):
		return strings.TrimSuffix(w, "/"), nil
	case strings.Contains(w, "://") && !strings.HasPrefix(w, "file://"):
		return "", fmt.Errorf("unsupported warehouse %q: use a folder or s3://bucket/prefix", w)
	}
	abs, err := filepath.Abs(strings.TrimPrefix(w, "file://"))
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("warehouse: %w", err)
	}
	return "file://" + filepath.ToSlash(abs), nil
}

// Close releases the database connection.
func (c *Catalog) Close() error { return c.db.Close() }

// Postgres returns the catalog's database when it is PostgreSQL.
func (c *Catalog) Postgres() (*sql.DB, bool) { return c.db, c.pg }

// SQLitePath returns the file of a SQLite catalog ("" for PostgreSQL).
func (c *Catalog) SQLitePath() string {
	if c.pg {
		return ""
	}
	return c.sqlitePath
}

// Warehouse returns the warehouse root as a URL.
func (c *Catalog) Warehouse() string { return c.warehouse }

// Ensure creates the namespaces and tables that do not exist yet. It is
// idempotent and safe to run from several processes at once.
func (c *Catalog) Ensure(ctx context.Context, tables ...schema.Table) error {
	for _, t := range tables {
		ns := table.Identifier{t.Namespace}
		if err := c.cat.CreateNamespace(ctx, ns, nil); err != nil && !errors.Is(err, icecat.ErrNamespaceAlreadyExists) {
			return fmt.Errorf("create namespace %s: %w", t.Namespace, err)
		}
		if tbl, err := c.cat.LoadTable(ctx, t.Ident()); err == nil {
			if err := c.enforce(ctx, t, tbl); err != nil {
				return err
			}
			continue
		} else if !errors.Is(err, icecat.ErrNoSuchTable) {
			return fmt.Errorf("load %s: %w", t, err)
		}
		spec, err := t.Spec()
		if err != nil {
			return err
		}
		props := iceberg.Properties{}
		for k, v := range c.props {
			props[k] = v
		}
		for k, v := range t.Properties() {
			props[k] = v
		}
		_, err = c.cat.CreateTable(ctx, t.Ident(), t.Schema,
			icecat.WithLocation(c.warehouse+"/"+t.Namespace+"/"+t.Name),
			icecat.WithPartitionSpec(&spec), icecat.WithProperties(props))
		if err != nil && !errors.Is(err, icecat.ErrTableAlreadyExists) {
			return fmt.Errorf("create %s: %w", t, err)
		}
		if err == nil {
			c.log.Info("created table", "table", t.String())
		}
	}
	return nil
}

// enforce sets, on an existing table, the properties exactly-once relies
// on, and adds the optional top-level columns a newer declaration of t has
// (schema evolution by addition only; nothing is ever dropped or retyped).
func (c *Catalog) enforce(ctx context.Context, t schema.Table, tbl *table.Table) error {
	missing := missingColumns(t, tbl)
	if tbl.Properties()[table.CommitNumRetriesKey] == "0" && len(missing) == 0 {
		return nil
	}
	_, err := c.Commit(ctx, t, func(cur *table.Table, tx *table.Transaction) error {
		if cols := missingColumns(t, cur); len(cols) > 0 {
			u := tx.UpdateSchema(true, false)
			for _, f := range cols {
				u.AddColumn([]string{f.Name}, f.Type, f.Doc, false, nil)
			}
			if err := u.Commit(); err != nil {
				return err
			}
		}
		return tx.SetProperties(iceberg.Properties{table.CommitNumRetriesKey: "0"})
	})
	if err != nil {
		return fmt.Errorf("%s: enforce declaration: %w", t, err)
	}
	c.log.Info("brought table up to its declaration", "table", t.String(), "added_columns", len(missing))
	return nil
}

// missingColumns lists t's optional top-level columns tbl lacks.
func missingColumns(t schema.Table, tbl *table.Table) []iceberg.NestedField {
	var out []iceberg.NestedField
	for _, f := range t.Schema.Fields() {
		if _, ok := tbl.Schema().FindFieldByName(f.Name); !ok && !f.Required {
			out = append(out, f)
		}
	}
	return out
}

// Load returns the current state of t.
func (c *Catalog) Load(ctx context.Context, t schema.Table) (*table.Table, error) {
	tbl, err := c.cat.LoadTable(ctx, t.Ident())
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", t, err)
	}
	return tbl, nil
}

// ErrAlreadyCommitted may be returned by a Commit build function that finds
// its work already in the table (a previous attempt's commit went through
// although its answer was lost). Commit then succeeds without committing.
var ErrAlreadyCommitted = errors.New("already committed")

// maxAttempts bounds Commit's optimistic retries.
const maxAttempts = 10

// Commit applies build to a fresh transaction on the current state of t and
// commits it, retrying on conflict: each attempt reloads the table and calls
// build again, so build must derive everything from the table it is given
// (and re-check its preconditions, such as the exactly-once ledger). This is
// the working pattern for concurrent writers with iceberg-go, whose own
// retry does not retry the requirement checks (see docs/exactly-once.md).
//
// An error from build other than ErrAlreadyCommitted ends Commit at once.
func (c *Catalog) Commit(ctx context.Context, t schema.Table, build func(*table.Table, *table.Transaction) error) (*table.Table, error) {
	var last error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		tbl, err := c.Load(ctx, t)
		if err != nil {
			return nil, err
		}
		tx := tbl.NewTransaction()
		if err := build(tbl, tx); errors.Is(err, ErrAlreadyCommitted) {
			return tbl, nil
		} else if err != nil {
			return nil, err
		}
		out, err := tx.Commit(ctx)
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("commit %s: %w", t, ctx.Err())
		}
		last = err
		backoff := time.Duration(1<<min(attempt, 6)) * 20 * time.Millisecond
		backoff += time.Duration(rand.Int64N(int64(backoff)))
		c.log.Warn("commit conflict, retrying", "table", t.String(), "attempt", attempt, "backoff", backoff, "error", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, fmt.Errorf("commit %s: %w", t, ctx.Err())
		}
	}
	return nil, fmt.Errorf("commit %s: gave up after %d attempts: %w", t, maxAttempts, last)
}
