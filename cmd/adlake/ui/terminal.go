// Package ui is adlake's terminal: stderr shared by the log lines and,
// when stderr is a terminal, a one-line progress bar below them.
package ui

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/advertisex/adlake/lake/objstore"
)

// Terminal serializes writes to stderr and, when stderr is a terminal,
// draws a one-line progress bar below the log lines: every log write first
// clears the bar, the next update redraws it.
type Terminal struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	bar     string
	last    time.Time
	started time.Time
}

// New returns a Terminal over w.
func New(w io.Writer) *Terminal {
	t := &Terminal{w: w, started: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		t.tty = true
	}
	return t
}

// Write writes log output, keeping the bar below it.
func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tty && t.bar != "" {
		fmt.Fprint(t.w, "\r\033[K")
	}
	n, err := t.w.Write(p)
	if t.tty && t.bar != "" {
		fmt.Fprint(t.w, t.bar)
	}
	return n, err
}

// Progress redraws the bar (at most 10 times a second) on a terminal:
// label, done of total items and, when bytesTotal > 0, bytes.
func (t *Terminal) Progress(label string, done, total int, bytesDone, bytesTotal int64) {
	if !t.tty {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if time.Since(t.last) < 100*time.Millisecond && done != total {
		return
	}
	t.last = time.Now()
	const width = 30
	frac := 1.0
	if bytesTotal > 0 {
		frac = float64(bytesDone) / float64(bytesTotal)
	} else if total > 0 {
		frac = float64(done) / float64(total)
	}
	fill := int(frac * width)
	rate := float64(bytesDone) / time.Since(t.started).Seconds() / (1 << 20)
	t.bar = fmt.Sprintf("%-18s [%s%s] %3.0f%%  %d/%d files  %s  %.1f MiB/s", label,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), frac*100, done, total, objstore.HumanSize(bytesDone), rate)
	fmt.Fprint(t.w, "\r\033[K"+t.bar)
}

// Done removes the bar.
func (t *Terminal) Done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tty && t.bar != "" {
		fmt.Fprint(t.w, "\r\033[K")
		t.bar = ""
	}
}
