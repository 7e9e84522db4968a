// Package jobs holds one package per adlake job. A job package exposes
// entry points (ingest.Run, daily.Run, daily.Backfill, quality.Run,
// rebuild.Silver, replay.Run, ...) that take their dependencies
// explicitly — the catalog, the landing store, the locks, the alerter, a
// logger, a clock — and return a report and an error; cmd/adlake parses
// flags, builds those dependencies, prints the report and maps the error
// to an exit code. Jobs never exit the process. docs/architecture.md has
// the package map and the data flow through it.
package jobs
