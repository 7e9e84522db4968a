package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// terminal serializes writes to stderr and, when stderr is a terminal,
// draws a one-line progress bar below the log lines: every log write first
// clears the bar, the next update redraws it.
type terminal struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	bar     string
	last    time.Time
	started time.Time
}

func newTerminal(w io.Writer) *terminal {
	t := &terminal{w: w, started: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		t.tty = true
	}
	return t
}

func (t *terminal) Write(p []byte) (int, error) {
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

// progress redraws the bar (at most 10 times a second) on a terminal.
func (t *terminal) progress(label string, done, total int, bytesDone, bytesTotal int64) {
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
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), frac*100, done, total, humanBytes(bytesDone), rate)
	fmt.Fprint(t.w, "\r\033[K"+t.bar)
}

// done removes the bar.
func (t *terminal) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tty && t.bar != "" {
		fmt.Fprint(t.w, "\r\033[K")
		t.bar = ""
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
