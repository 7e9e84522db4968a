package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/advertisex/adlake/config"
)

func configCommand() command {
	return command{
		name:    "config",
		summary: "print the effective configuration (file + environment + flags)",
		usage: `Prints the configuration adlake would run with, as YAML (a valid
adlake.yaml; the catalog password is hidden). --reference prints every
setting with its flag, environment variable and default, as Markdown.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
			var ref bool
			fs.BoolVar(&ref, "reference", false, "print the settings reference (Markdown)")
			return func(_ context.Context, e *env) error {
				if ref {
					_, err := fmt.Fprint(e.out, config.Reference())
					return err
				}
				_, err := fmt.Fprint(e.out, e.cfg.YAML())
				return err
			}
		},
	}
}

func versionCommand() command {
	return command{
		name: "version", summary: "print the version", usage: "Prints the adlake version.", noConfig: true,
		flags: func(*flag.FlagSet) func(context.Context, *env) error {
			return func(_ context.Context, e *env) error {
				_, err := fmt.Fprintln(e.out, "adlake", version)
				return err
			}
		},
	}
}
