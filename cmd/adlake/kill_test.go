package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/schema"
)

// binary is the adlake binary built once for the process-level tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "adlake-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "adlake")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build adlake: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// landingTemplate generates defect data once; each case copies it.
func landingTemplate(t *testing.T) (string, *gen.Manifest) {
	t.Helper()
	dir := t.TempDir()
	b, err := objstore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := gen.Run(context.Background(), b, gen.Options{Seed: 11, Days: 1, ImpressionsPerDay: 6000, Defects: true})
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

// lakeDir is one lakehouse: a copy of the landing template, an empty
// warehouse and catalog.
func lakeDir(t *testing.T, template string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "lakehouse", "landing"), os.DirFS(template)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func ingestCmd(dir string, extraEnv ...string) *exec.Cmd {
	cmd := exec.Command(binary, "ingest", "--max-files-per-commit", "7")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"ADLAKE_LOG_LEVEL=warn"}, extraEnv...)...)
	return cmd
}

func killedBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// finish re-runs ingest until it exits normally (0, or 3 when it is the
// run that meets the unreadable files).
func finish(t *testing.T, dir string) {
	t.Helper()
	out, err := ingestCmd(dir).CombinedOutput()
	if err != nil && exitStatus(err) != exitPartial {
		t.Fatalf("re-run after the kill: %v\n%s", err, out)
	}
	out, err = ingestCmd(dir).CombinedOutput()
	if err != nil {
		t.Fatalf("third run must be a clean no-op: %v\n%s", err, out)
	}
}

func exitStatus(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// verify asserts the lake holds exactly what the generator wrote: every
// bronze row once, every quarantine row once.
func verify(t *testing.T, dir string, m *gen.Manifest) {
	t.Helper()
	cat := openCatalog(t, dir)
	for feed, tbl := range schema.Bronze {
		rows, distinct := scanKeys(t, cat, tbl, schema.ColSourceFile, schema.ColSourceOffset)
		if want := m.Feeds[feed].BronzeRows; rows != want || distinct != want {
			t.Errorf("bronze.%s: %d rows, %d distinct (file, offset); want %d", feed, rows, distinct, want)
		}
	}
	rows, distinct := scanKeys(t, cat, schema.Quarantine, "source_file", "source_offset")
	var want int64
	for _, f := range m.Feeds {
		want += f.MalformedRows + int64(f.UnreadableFiles)
	}
	if rows != want || distinct != want {
		t.Errorf("ops.quarantine: %d rows, %d distinct; want %d", rows, distinct, want)
	}
}

// openCatalog opens the catalog of the lakehouse in dir (closed at the end of the test).
func openCatalog(t *testing.T, dir string) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Open(context.Background(), catalog.Options{URI: filepath.Join(dir, "lakehouse", "catalog.db"), Warehouse: filepath.Join(dir, "lakehouse", "warehouse")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	return cat
}

// pendingFiles counts landing files no bronze commit lists yet.
func pendingFiles(t *testing.T, dir string) int {
	t.Helper()
	ctx := context.Background()
	cat := openCatalog(t, dir)
	store, err := objstore.NewLocal(filepath.Join(dir, "lakehouse", "landing"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, feed := range bronze.DefaultFeeds {
		d, err := bronze.Discover(ctx, store, cat, feed)
		if err != nil {
			t.Fatal(err)
		}
		n += len(d.Pending)
	}
	return n
}

// scanKeys counts rows and distinct (a, b) pairs of a table.
func scanKeys(t *testing.T, cat *catalog.Catalog, tb schema.Table, a, b string) (rows, distinct int64) {
	t.Helper()
	tbl, err := cat.Load(context.Background(), tb)
	if err != nil {
		t.Fatal(err)
	}
	_, batches, err := tbl.Scan(table.WithSelectedFields(a, b)).ToArrowRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for rec, err := range batches {
		if err != nil {
			t.Fatal(err)
		}
		ac := rec.Column(0).(*array.String)
		bc := rec.Column(1).(*array.Int64)
		for i := 0; i < int(rec.NumRows()); i++ {
			seen[fmt.Sprintf("%s@%d/%v", ac.Value(i), bc.Value(i), bc.IsNull(i))] = true
			rows++
		}
		rec.Release()
	}
	return rows, int64(len(seen))
}

// TestKillAfterEveryKindOfCommit kills the process with SIGKILL right after
// its Nth commit, for commits that are quarantine commits, bronze commits
// and the last ones, then re-runs and checks nothing is lost or doubled.
func TestKillAfterEveryKindOfCommit(t *testing.T) {
	template, m := landingTemplate(t)
	for _, n := range []int{1, 2, 3, 4, 6, 9, 13, 17} {
		t.Run(fmt.Sprintf("after commit %d", n), func(t *testing.T) {
			dir := lakeDir(t, template)
			out, err := ingestCmd(dir, fmt.Sprintf("ADLAKE_TEST_KILL_AFTER_COMMIT=%d", n)).CombinedOutput()
			if !killedBySIGKILL(err) {
				t.Fatalf("ingest was not killed after commit %d: %v\n%s", n, err, out)
			}
			if p := pendingFiles(t, dir); p == 0 {
				t.Fatalf("killed after commit %d with nothing pending: the case tests nothing", n)
			}
			finish(t, dir)
			verify(t, dir, m)
		})
	}
}

// TestKillAtTimedPoints kills the process at wall-clock offsets, which land
// inside decoding, Parquet writing and commits.
func TestKillAtTimedPoints(t *testing.T) {
	template, m := landingTemplate(t)
	for _, after := range []time.Duration{20 * time.Millisecond, 60 * time.Millisecond, 120 * time.Millisecond, 200 * time.Millisecond, 350 * time.Millisecond} {
		t.Run(after.String(), func(t *testing.T) {
			dir := lakeDir(t, template)
			cmd := ingestCmd(dir)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(after)
			_ = cmd.Process.Kill() // SIGKILL; the run may also have finished already
			_ = cmd.Wait()
			finish(t, dir)
			verify(t, dir, m)
		})
	}
}
