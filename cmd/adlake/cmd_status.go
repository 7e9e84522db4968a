package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/advertisex/adlake/config"
	"github.com/advertisex/adlake/jobs/status"
	"github.com/advertisex/adlake/lake/secret"
)

func statusCommand(e *env) *cobra.Command {
	var last int
	return command(e, describe("status", "pending landing files, table sizes, quarantine and recent runs"), []string{config.GroupLanding, config.GroupLake},
		func(fs *pflag.FlagSet) {
			e.jsonFlag(fs, "print as JSON")
			fs.IntVar(&last, "runs", 8, "how many recent runs to show")
		},
		func(ctx context.Context, _ []string) error {
			store, cat, _, err := e.lake(ctx)
			if err != nil {
				return err
			}
			rep, err := status.Collect(ctx, store, cat, last)
			if err != nil {
				return err
			}
			rep.Warehouse, rep.Catalog, rep.CatalogName = cat.Warehouse(), secret.Redact(e.cfg.Catalog), e.cfg.CatalogName
			return e.print(rep, nil)
		})
}

func configCommand(e *env) *cobra.Command {
	var ref bool
	return command(e, describe("config", "print the effective configuration (file + environment + flags)"), config.Groups,
		func(fs *pflag.FlagSet) {
			fs.BoolVar(&ref, "reference", false, "print the settings reference (Markdown)")
		},
		func(context.Context, []string) error {
			if ref {
				_, err := fmt.Fprint(e.out, config.Reference())
				return err
			}
			_, err := fmt.Fprint(e.out, e.cfg.YAML())
			return err
		})
}

func versionCommand(e *env) *cobra.Command {
	return command(e, describe("version", "print the version"), nil, nil,
		func(context.Context, []string) error {
			_, err := fmt.Fprintln(e.out, "adlake", version)
			return err
		})
}
