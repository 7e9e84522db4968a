package main

import (
	"context"
	"errors"

	"github.com/advertisex/adlake/jobs/ingest"
	"github.com/advertisex/adlake/jobs/quality"
	"github.com/advertisex/adlake/lake/catalog"
)

// Exit codes, documented in `adlake help` and docs/operations.md.
const (
	exitOK          = 0   // done
	exitFailed      = 1   // the run failed; nothing partial is visible, re-run after fixing the cause
	exitUsage       = 2   // bad command line or configuration
	exitPartial     = 3   // done, but some landing files were unreadable and quarantined whole
	exitConflict    = 4   // another run is doing the same work; re-running is safe
	exitChecks      = 5   // done, but a data-quality check failed (ops.dq_results)
	exitInterrupted = 130 // stopped by a signal; re-running is safe
)

// usageError marks errors of the command line or configuration.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// exitCode maps an error to the process exit code: the one place that
// decides them.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, catalog.ErrConflict):
		return exitConflict
	case errors.Is(err, quality.ErrFailed):
		return exitChecks
	case errors.Is(err, ingest.ErrPartial):
		return exitPartial
	default:
		return exitFailed
	}
}
