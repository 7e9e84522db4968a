// Command adlake is the AdvertiseX lakehouse ETL: one binary, one command
// per job. Run `adlake help` for the commands, `adlake <command> --help`
// for each one's flags.
//
// main owns the process: the root context (cancelled by SIGINT/SIGTERM),
// the logger, and the mapping of errors to exit codes. Commands are thin:
// they parse flags into options and call a job.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{out: os.Stdout, err: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}
