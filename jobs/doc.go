// Package jobs holds one package per adlake job: gen (landing data
// generator), bronze (landing -> bronze ingestion). Each job is a function
// RunX(ctx, deps, opts) that cmd/adlake calls; jobs never exit the process.
package jobs
