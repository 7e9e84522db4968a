package gold

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// SorterOptions configure a Sorter. Zero values take the documented
// defaults.
type SorterOptions struct {
	// MemoryBudget bounds the approximate bytes of rows the sorter buffers
	// (row bytes plus 16 bytes of index per row); above it the buffered rows
	// are sorted and written to a spill file. Default 512 MiB.
	MemoryBudget int64
	// Dir receives the spill files (default os.TempDir()). The sorter
	// removes its own files in Close.
	Dir string
}

// SortStats count what a Sorter did.
type SortStats struct {
	Rows       int64 // rows added
	SpillFiles int   // sorted runs written to disk
	SpillBytes int64 // bytes written to spill files
}

// Add merges the counts of o into s.
func (s *SortStats) Add(o SortStats) {
	s.Rows += o.Rows
	s.SpillFiles += o.SpillFiles
	s.SpillBytes += o.SpillBytes
}

const (
	chunkSize   = 1 << 20 // rows are packed into chunks of this size
	entryBytes  = 16      // index bytes per buffered row
	maxRowBytes = 1 << 30 // a longer row in a spill file means corruption
	maxFanIn    = 64      // runs merged at once; more are merged in passes
)

// entry locates one buffered row; prefix is the first 8 bytes of its key,
// big-endian and zero-padded, so most comparisons never touch the row.
type entry struct {
	prefix     uint64
	chunk, pos uint32
}

// Sorter is an external sort of rows, each a key and a value (byte
// strings). Rows come out ordered by bytes.Compare of their keys; rows
// with equal keys come out in the order they were added (the sort is
// stable). While the buffered rows fit the memory budget the sort happens
// in memory; beyond it each full buffer is sorted into a run, written to a
// spill file with a compact binary encoding (uvarint key length, uvarint
// value length, key, value), and the runs are k-way merged on reading.
//
// Use: Add every row, then Rows once, then Close (always, also on error:
// it removes the spill files). A Sorter is not safe for concurrent use.
type Sorter struct {
	o      SorterOptions
	chunk  int // size of a new chunk
	chunks [][]byte
	idx    []entry
	mem    int64
	runs   []string
	stats  SortStats
	read   bool
	closed bool
}

// NewSorter returns an empty sorter.
func NewSorter(o SorterOptions) *Sorter {
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = 512 << 20
	}
	if o.Dir == "" {
		o.Dir = os.TempDir()
	}
	return &Sorter{o: o, chunk: int(min(chunkSize, max(256, o.MemoryBudget/8)))}
}

// Stats returns the counts so far.
func (s *Sorter) Stats() SortStats { return s.stats }

// Add buffers one row; key and val are copied. It may spill to disk.
func (s *Sorter) Add(key, val []byte) error {
	if s.read || s.closed {
		return errors.New("sorter: Add after Rows or Close")
	}
	var hdr [2 * binary.MaxVarintLen64]byte
	h := binary.PutUvarint(hdr[:], uint64(len(key)))
	h += binary.PutUvarint(hdr[h:], uint64(len(val)))
	n := h + len(key) + len(val)
	if len(s.chunks) == 0 || len(s.chunks[len(s.chunks)-1])+n > cap(s.chunks[len(s.chunks)-1]) {
		size := max(s.chunk, n)
		s.chunks = append(s.chunks, make([]byte, 0, size))
		s.mem += int64(size)
	}
	c := len(s.chunks) - 1
	pos := len(s.chunks[c])
	buf := append(s.chunks[c], hdr[:h]...)
	buf = append(buf, key...)
	s.chunks[c] = append(buf, val...)
	s.idx = append(s.idx, entry{prefix: prefix8(key), chunk: uint32(c), pos: uint32(pos)})
	s.mem += entryBytes
	s.stats.Rows++
	if s.mem > s.o.MemoryBudget {
		return s.spill()
	}
	return nil
}

func prefix8(key []byte) uint64 {
	if len(key) >= 8 {
		return binary.BigEndian.Uint64(key)
	}
	var b [8]byte
	copy(b[:], key)
	return binary.BigEndian.Uint64(b[:])
}

// row returns the key and value of e.
func (s *Sorter) row(e entry) (key, val []byte) {
	b := s.chunks[e.chunk][e.pos:]
	kl, n1 := binary.Uvarint(b)
	vl, n2 := binary.Uvarint(b[n1:])
	b = b[n1+n2:]
	return b[:kl], b[kl : kl+vl]
}

func (s *Sorter) sortBuffer() {
	slices.SortFunc(s.idx, func(a, b entry) int {
		if a.prefix != b.prefix {
			if a.prefix < b.prefix {
				return -1
			}
			return 1
		}
		ka, _ := s.row(a)
		kb, _ := s.row(b)
		if c := bytes.Compare(ka, kb); c != 0 {
			return c
		}
		// Insertion order: chunks and positions only grow.
		if a.chunk != b.chunk {
			return int(a.chunk) - int(b.chunk)
		}
		return int(a.pos) - int(b.pos)
	})
}

// spill sorts the buffered rows into a new run file and empties the buffer.
func (s *Sorter) spill() (err error) {
	s.sortBuffer()
	f, err := os.CreateTemp(s.o.Dir, "adlake-gold-sort-*.run")
	if err != nil {
		return fmt.Errorf("sorter: spill: %w", err)
	}
	s.runs = append(s.runs, f.Name())
	w := bufio.NewWriterSize(f, 1<<20)
	var hdr [2 * binary.MaxVarintLen64]byte
	var written int64
	for _, e := range s.idx {
		k, v := s.row(e)
		h := binary.PutUvarint(hdr[:], uint64(len(k)))
		h += binary.PutUvarint(hdr[h:], uint64(len(v)))
		w.Write(hdr[:h])
		w.Write(k)
		if _, err := w.Write(v); err != nil {
			f.Close()
			return fmt.Errorf("sorter: spill: %w", err)
		}
		written += int64(h + len(k) + len(v))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("sorter: spill: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sorter: spill: %w", err)
	}
	s.stats.SpillFiles++
	s.stats.SpillBytes += written
	// Keep the first chunk for reuse, drop the rest.
	s.chunks = s.chunks[:1]
	s.chunks[0] = s.chunks[0][:0]
	s.mem = int64(cap(s.chunks[0]))
	s.idx = s.idx[:0]
	return nil
}

// Close removes the spill files and releases the buffer. It is idempotent.
func (s *Sorter) Close() error {
	s.closed = true
	s.chunks, s.idx = nil, nil
	var errs []error
	for _, p := range s.runs {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	s.runs = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sorter: remove spill files: %w", err)
	}
	return nil
}

// Rows sorts what was added and returns the rows in order. It may be called
// once; the sorter must stay open while the rows are read.
func (s *Sorter) Rows(ctx context.Context) (*SortedRows, error) {
	if s.read || s.closed {
		return nil, errors.New("sorter: Rows called twice or after Close")
	}
	s.read = true
	for len(s.runs) > maxFanIn {
		if err := s.mergeRuns(ctx, maxFanIn); err != nil {
			return nil, err
		}
	}
	s.sortBuffer()
	r := &SortedRows{ctx: ctx}
	mem := &memSource{s: s}
	if len(s.runs) == 0 {
		r.single = mem
		return r, nil
	}
	for i, p := range s.runs {
		f, err := os.Open(p)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("sorter: %w", err)
		}
		r.files = append(r.files, f)
		r.heap = append(r.heap, &runSource{rank: i, r: bufio.NewReaderSize(f, 256<<10)})
	}
	r.heap = append(r.heap, &rankedMem{memSource: mem, rank: len(s.runs)})
	live := r.heap[:0]
	for _, src := range r.heap {
		ok, err := src.next()
		if err != nil {
			r.Close()
			return nil, err
		}
		if ok {
			live = append(live, src)
		}
	}
	r.heap = live
	heap.Init(&r.heap)
	return r, nil
}

// mergeRuns merges the first n spill files into one, which takes their
// place at the front of the runs (so ties keep their order), and removes
// them.
func (s *Sorter) mergeRuns(ctx context.Context, n int) error {
	r := &SortedRows{ctx: ctx}
	defer r.Close()
	for i, p := range s.runs[:n] {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("sorter: %w", err)
		}
		r.files = append(r.files, f)
		src := &runSource{rank: i, r: bufio.NewReaderSize(f, 64<<10)}
		ok, err := src.next()
		if err != nil {
			return err
		}
		if ok {
			r.heap = append(r.heap, src)
		}
	}
	heap.Init(&r.heap)
	out, err := os.CreateTemp(s.o.Dir, "adlake-gold-sort-*.run")
	if err != nil {
		return fmt.Errorf("sorter: merge: %w", err)
	}
	w := bufio.NewWriterSize(out, 1<<20)
	var hdr [2 * binary.MaxVarintLen64]byte
	for r.Next() {
		k, v := r.Key(), r.Value()
		h := binary.PutUvarint(hdr[:], uint64(len(k)))
		h += binary.PutUvarint(hdr[h:], uint64(len(v)))
		w.Write(hdr[:h])
		w.Write(k)
		w.Write(v)
		s.stats.SpillBytes += int64(h + len(k) + len(v))
	}
	err = errors.Join(r.Err(), w.Flush(), out.Close())
	if err != nil {
		os.Remove(out.Name())
		return fmt.Errorf("sorter: merge: %w", err)
	}
	r.Close()
	for _, p := range s.runs[:n] {
		os.Remove(p)
	}
	s.runs = append([]string{out.Name()}, s.runs[n:]...)
	s.stats.SpillFiles++
	return nil
}

// source is one sorted run being merged.
type source interface {
	next() (bool, error)
	key() []byte
	val() []byte
	order() int // run number: the tie-break that keeps the sort stable
}

type memSource struct {
	s    *Sorter
	i    int
	k, v []byte
}

func (m *memSource) next() (bool, error) {
	if m.i >= len(m.s.idx) {
		return false, nil
	}
	m.k, m.v = m.s.row(m.s.idx[m.i])
	m.i++
	return true, nil
}
func (m *memSource) key() []byte { return m.k }
func (m *memSource) val() []byte { return m.v }

type rankedMem struct {
	*memSource
	rank int
}

func (m *rankedMem) order() int { return m.rank }

type runSource struct {
	rank int
	r    *bufio.Reader
	buf  []byte
	k, v []byte
}

func (r *runSource) next() (bool, error) {
	kl, err := binary.ReadUvarint(r.r)
	if err == io.EOF {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("sorter: read spill file: %w", err)
	}
	vl, err := binary.ReadUvarint(r.r)
	if err != nil || kl > maxRowBytes || vl > maxRowBytes {
		return false, fmt.Errorf("sorter: corrupt spill file (lengths %d, %d): %v", kl, vl, err)
	}
	n := int(kl + vl)
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		return false, fmt.Errorf("sorter: read spill file: %w", err)
	}
	r.k, r.v = r.buf[:kl], r.buf[kl:]
	return true, nil
}
func (r *runSource) key() []byte { return r.k }
func (r *runSource) val() []byte { return r.v }
func (r *runSource) order() int  { return r.rank }

type sourceHeap []source

func (h sourceHeap) Len() int { return len(h) }
func (h sourceHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].key(), h[j].key()); c != 0 {
		return c < 0
	}
	return h[i].order() < h[j].order()
}
func (h sourceHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *sourceHeap) Push(x any)   { *h = append(*h, x.(source)) }
func (h *sourceHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// SortedRows iterates over the rows of a Sorter in order. Key and Value
// are valid until the next call of Next.
type SortedRows struct {
	ctx    context.Context
	single *memSource // no spill: the in-memory run alone
	heap   sourceHeap
	files  []*os.File
	top    source // the row returned last, advanced on the next Next
	k, v   []byte
	n      int
	err    error
}

// Next advances to the next row; false at the end or on error (see Err).
func (r *SortedRows) Next() bool {
	if r.err != nil {
		return false
	}
	if r.n++; r.n&4095 == 0 {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			return false
		}
	}
	if r.single != nil {
		ok, _ := r.single.next()
		r.k, r.v = r.single.k, r.single.v
		return ok
	}
	if r.top != nil {
		ok, err := r.top.next()
		if err != nil {
			r.err = err
			return false
		}
		if ok {
			heap.Fix(&r.heap, 0)
		} else {
			heap.Pop(&r.heap)
		}
		r.top = nil
	}
	if len(r.heap) == 0 {
		return false
	}
	r.top = r.heap[0]
	r.k, r.v = r.top.key(), r.top.val()
	return true
}

// Key returns the current row's key.
func (r *SortedRows) Key() []byte { return r.k }

// Value returns the current row's value.
func (r *SortedRows) Value() []byte { return r.v }

// Err returns the error that ended the iteration, if any.
func (r *SortedRows) Err() error { return r.err }

// Close closes the spill files being read (the Sorter removes them).
func (r *SortedRows) Close() {
	for _, f := range r.files {
		f.Close()
	}
	r.files = nil
}
