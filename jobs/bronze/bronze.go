// Package bronze moves landing files into bronze: it discovers the files
// not yet committed, decodes them (package decode) and appends their rows
// to the bronze table of their feed, and what cannot be parsed to
// ops.quarantine.
//
// Exactly once: every bronze commit carries, in its snapshot summary, the
// list of landing files it consumed (ledger.Ledger). A file is pending
// until a bronze commit lists it, so a run that dies at any point leaves
// its files pending and the next run redoes them; nothing a dead run wrote
// is visible, because data files become part of the table only through the
// commit. Quarantine rows of a file are committed before its bronze rows,
// and are not written again for a file whose quarantine rows are already
// committed. See docs/exactly-once.md.
package bronze

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/jobs/bronze/decode"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/landing"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/schema"
)

// Options configure Run. Zero values take the documented defaults.
type Options struct {
	// Feeds to ingest (default: schema.Feeds, in that order).
	Feeds []schema.Feed
	// RunID identifies this run in lineage columns, ledgers and ops.runs.
	RunID string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxFilesPerCommit and MaxBytesPerCommit bound one commit (defaults
	// 500 files, 1 GiB of landing bytes): a large backlog is committed in
	// several steps, each durable on its own.
	MaxFilesPerCommit int
	MaxBytesPerCommit int64
	// BatchRows is the Arrow batch size (default 8192).
	BatchRows int
	// Alloc allocates Arrow memory (default memory.DefaultAllocator).
	Alloc memory.Allocator
	// Logger receives JSON-able structured logs; nil discards.
	Logger *slog.Logger
	// Progress, if set, is called after each file.
	Progress func(Progress)
	// Tap, if set, is asked for a Tap for every chunk (nil: none): it sees
	// the chunk's bronze batches as they are decoded, and is told of the
	// bronze commit. ingest uses it to derive silver in the same pass.
	Tap func(ctx context.Context, feed schema.Feed, bronze *table.Table) (Tap, error)
}

// Tap observes one chunk of a bronze ingestion.
type Tap interface {
	// Batch sees a bronze batch; it must Retain what it keeps.
	Batch(ctx context.Context, rec arrow.RecordBatch) error
	// Committed is called after the chunk's bronze commit made snapshot
	// (whose parent is parent, 0 for none). An error is logged;
	// exactly-once never depends on a tap.
	Committed(ctx context.Context, snapshot, parent int64) error
	// Abort is called instead of Committed when the chunk fails.
	Abort()
}

// Progress reports how far a feed is.
type Progress struct {
	Feed                  string
	FilesDone, FilesTotal int
	BytesDone, BytesTotal int64
}

func (o Options) withDefaults() Options {
	if len(o.Feeds) == 0 {
		o.Feeds = schema.Feeds
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxFilesPerCommit <= 0 {
		o.MaxFilesPerCommit = 500
	}
	if o.MaxBytesPerCommit <= 0 {
		o.MaxBytesPerCommit = 1 << 30
	}
	if o.Alloc == nil {
		o.Alloc = memory.DefaultAllocator
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = func(Progress) {}
	}
	return o
}

// FeedReport is what one run did for one feed.
type FeedReport struct {
	Feed             string
	Started, Ended   time.Time
	Files            int              // landing files committed by this run
	FilesUnreadable  int              // of which quarantined whole (or their remainder)
	AlreadyCommitted int              // landing files found committed before this run
	Ignored          map[string]int   // objects under the feed that are not landing files, by reason
	Bytes            int64            // landing bytes read
	Decoded          int64            // records the decoders parsed into rows
	Rows             int64            // rows the bronze commits added (from their data files)
	Rejects          int64            // quarantine rows written
	RejectedRecords  int64            // landing records inside them (where known)
	Blank            int64            // blank JSON lines skipped
	ByReason         map[string]int64 // quarantine rows by reason
	Commits          int              // Iceberg commits (bronze + quarantine)
	WindowStart      time.Time        // earliest arrival hour processed
	WindowEnd        time.Time        // end of the latest arrival hour processed
	// Drift lists the distinct ways files of this run differed from the
	// contract (by Drift.String()); nil when none did.
	Drift map[string]*DriftSeen
	Err   error // why the feed stopped early, if it did
}

// DriftSeen is one way landing files differed from the contract.
type DriftSeen struct {
	schema.Drift
	Files   int    // files of the run that showed it
	Example string // the first such file's key
}

func (fr *FeedReport) noteDrift(key string, d schema.Drift) {
	if d.Empty() {
		return
	}
	if fr.Drift == nil {
		fr.Drift = map[string]*DriftSeen{}
	}
	sig := d.String()
	seen := fr.Drift[sig]
	if seen == nil {
		seen = &DriftSeen{Drift: d, Example: key}
		fr.Drift[sig] = seen
	}
	seen.Files++
}

// Report is what one run did.
type Report struct {
	RunID string
	Feeds []FeedReport
}

// Unreadable counts files quarantined whole in the run.
func (r Report) Unreadable() int {
	n := 0
	for _, f := range r.Feeds {
		n += f.FilesUnreadable
	}
	return n
}

// Run ingests every pending landing file of the requested feeds. It returns
// a report for every feed it started; the error is the first feed error
// (the other feeds still ran), or the context's.
func Run(ctx context.Context, store objstore.Reader, cat catalog.Tables, o Options) (Report, error) {
	o = o.withDefaults()
	rep := Report{RunID: o.RunID}
	var first error
	for _, feed := range o.Feeds {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		fr := ingestFeed(ctx, store, cat, feed, o)
		rep.Feeds = append(rep.Feeds, fr)
		if fr.Err != nil && first == nil {
			first = fmt.Errorf("feed %s: %w", feed.Name, fr.Err)
		}
	}
	return rep, first
}

func ingestFeed(ctx context.Context, store objstore.Reader, cat catalog.Tables, feed schema.Feed, o Options) (fr FeedReport) {
	fr = FeedReport{Feed: feed.Name, Started: o.Now(), Ignored: map[string]int{}, ByReason: map[string]int64{}}
	defer func() { fr.Ended = o.Now() }()
	log := o.Logger.With("feed", feed.Name, "run_id", o.RunID)
	d, err := Discover(ctx, store, cat, feed)
	if err != nil {
		fr.Err = err
		return fr
	}
	pending := d.Pending
	fr.AlreadyCommitted, fr.Ignored = d.Committed, d.Ignored
	var total int64
	for _, f := range pending {
		total += f.Size
	}
	log.Info("discovered landing files", "pending", len(pending), "pending_bytes", total,
		"already_committed", fr.AlreadyCommitted, "ignored", fr.Ignored)
	prog := Progress{Feed: feed.Name, FilesTotal: len(pending), BytesTotal: total}
	o.Progress(prog)
	for _, chunk := range chunks(pending, o.MaxFilesPerCommit, o.MaxBytesPerCommit) {
		if err := ingestChunk(ctx, store, cat, feed, chunk, o, &fr, log, &prog); err != nil {
			fr.Err = err
			return fr
		}
	}
	log.Info("feed ingested", "files", fr.Files, "rows", fr.Rows, "rejects", fr.Rejects,
		"unreadable_files", fr.FilesUnreadable, "commits", fr.Commits)
	return fr
}

// Discovery is the state of a feed's landing files against its ledger.
type Discovery struct {
	Pending   []landing.File // not committed yet, in key (arrival) order
	Committed int            // landing files a bronze commit lists
	Ignored   map[string]int // objects that are no landing files, by reason
}

// Discover lists the feed's landing objects and sorts them into pending,
// committed and ignored. It reads the ledger of the feed's bronze table.
func Discover(ctx context.Context, store objstore.Reader, cat catalog.Loader, feed schema.Feed) (Discovery, error) {
	d := Discovery{Ignored: map[string]int{}}
	tbl, err := cat.Load(ctx, feed.Bronze)
	if err != nil {
		return d, err
	}
	done, err := ledger.Ledger(tbl)
	if err != nil {
		return d, err
	}
	for obj, err := range store.List(ctx, feed.Name+"/") {
		if err != nil {
			return d, err
		}
		f, why := landing.Classify(obj)
		switch {
		case why != "":
			d.Ignored[why]++
		case f.Feed != feed.Name:
			d.Ignored[landing.IgnoreFeed]++
		default:
			if _, ok := done[f.Key]; ok {
				d.Committed++
				continue
			}
			d.Pending = append(d.Pending, f)
		}
	}
	return d, nil
}

// chunks splits files into commit-sized groups, in order.
func chunks(files []landing.File, maxFiles int, maxBytes int64) [][]landing.File {
	var out [][]landing.File
	var cur []landing.File
	var size int64
	for _, f := range files {
		if len(cur) > 0 && (len(cur) >= maxFiles || size+f.Size > maxBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, f)
		size += f.Size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// newDecoder returns the decoder of a feed: one per landing format.
func newDecoder(feed schema.Feed, o decode.Options) (fileDecoder, error) {
	switch feed.Format {
	case schema.JSONLines:
		return decode.NewImpressions(o), nil
	case schema.CSV:
		return decode.NewClicksConversions(schema.ClicksConversionsColumns, o), nil
	case schema.Avro:
		return decode.NewBidRequests(o)
	}
	return nil, fmt.Errorf("feed %s: no decoder for format %q", feed.Name, feed.Format)
}
