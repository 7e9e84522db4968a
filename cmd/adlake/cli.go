package main

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strings"

	"github.com/apache/iceberg-go/table"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/advertisex/adlake/cmd/adlake/ui"
	"github.com/advertisex/adlake/config"
	"github.com/advertisex/adlake/jobs/alert"
	"github.com/advertisex/adlake/jobs/ingest"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/lock"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/schema"
)

//go:embed help
var help embed.FS

// helpText returns the text of help/<name>.txt ("" when there is none):
// the prose of the commands' --help, kept beside the code.
func helpText(name string) string {
	b, _ := help.ReadFile("help/" + name + ".txt")
	return strings.TrimRight(string(b), "\n")
}

// describe returns a command named by use, with its long help and examples
// from help/<first word of use>[.example].txt and, optionally, a check of
// its positional arguments.
func describe(use, short string, args ...cobra.PositionalArgs) *cobra.Command {
	name, _, _ := strings.Cut(use, " ")
	c := &cobra.Command{Use: use, Short: short, Long: helpText(name), Example: helpText(name + ".example")}
	if len(args) > 0 {
		c.Args = args[0]
	}
	return c
}

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

// streams are the process's outside world, injected for tests.
type streams struct {
	out, err io.Writer
	getenv   func(string) string
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, s streams) int {
	e := &env{streams: s}
	defer e.close()
	e.cfg, e.loadErr = config.Load(config.Path(args, s.getenv), s.getenv)
	root := rootCommand(e)
	root.SetArgs(args)
	root.SetOut(s.out)
	root.SetErr(s.err)
	if len(args) == 0 {
		_ = root.Help()
		return exitUsage
	}
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") {
		err = usageError{err}
	}
	if !errors.Is(err, ingest.ErrPartial) {
		if e.log != nil && exitCode(err) != exitUsage {
			e.log.Error(cmd.Name()+" failed", "error", err.Error())
		}
		fmt.Fprintf(s.err, "adlake %s: %v\n", cmd.Name(), err)
	}
	if exitCode(err) == exitUsage && cmd == root {
		fmt.Fprintln(s.err)
		_ = root.Usage()
	}
	return exitCode(err)
}

// rootCommand builds the command tree; every command shares e.
func rootCommand(e *env) *cobra.Command {
	root := &cobra.Command{
		Use: "adlake", Short: "the AdvertiseX lakehouse ETL", Long: helpText("adlake"),
		SilenceErrors: true, SilenceUsage: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return e.start(cmd) },
	}
	root.PersistentFlags().String("config", "", "configuration file (env "+config.ConfigEnv+"; default ./adlake.yaml when present)")
	root.PersistentFlags().StringVar(&e.cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of the command to this file")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	for _, c := range []*cobra.Command{genCommand(e), ingestCommand(e), replayCommand(e), rebuildCommand(e), compactCommand(e),
		sweepCommand(e), qualityCommand(e), runCommand(e), backfillCommand(e), statusCommand(e), configCommand(e), versionCommand(e)} {
		root.AddCommand(c)
	}
	return root
}

// command declares one subcommand: its own flags, the configuration
// groups whose settings it takes as flags (and shows in --help), and its
// runner.
func command(e *env, c *cobra.Command, groups []string, flags func(*pflag.FlagSet), run func(ctx context.Context, args []string) error) *cobra.Command {
	if flags != nil {
		flags(c.Flags())
	}
	e.register(c, groups)
	if c.Args == nil {
		c.Args = noArgs
	}
	c.RunE = func(cmd *cobra.Command, args []string) error { return run(cmd.Context(), args) }
	return c
}

func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("unexpected arguments %v (see --help)", args)}
	}
	return nil
}

// layer returns an Args check for "adlake <cmd> <layer>".
func layer(choices ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 || !slices.Contains(choices, args[0]) {
			return usageError{fmt.Errorf("first argument must be one of %v", choices)}
		}
		return nil
	}
}

// env is what commands share: configuration, logger, opened resources.
type env struct {
	streams
	cfg     config.Config
	loadErr error
	term    *ui.Terminal // stderr, with the progress bar
	asJSON  bool         // --json of the command, where it has one
	// cpuProfile is --cpuprofile: a file for a CPU profile of the command.
	cpuProfile string
	log        *slog.Logger
	closers    []func() error
}

// register adds the settings of groups to c as flags, which override the
// configuration loaded from the file and the environment when parsed.
// Defaults shown in --help are the built-in ones, never effective values
// (which may hold secrets from the environment or the file).
func (e *env) register(c *cobra.Command, groups []string) {
	if len(groups) > 0 {
		config.Register(c.Flags(), &e.cfg, groups...)
	}
}

func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		_ = e.closers[i]()
	}
}

// start runs after flag parsing, before every command: it validates the
// configuration and sets up logging and the runtime.
func (e *env) start(cmd *cobra.Command) error {
	if !needsConfig(cmd) {
		return nil
	}
	if e.loadErr != nil {
		return usageError{e.loadErr}
	}
	if err := e.cfg.Validate(); err != nil {
		return usageError{fmt.Errorf("configuration: %w", err)}
	}
	e.cfg.TuneRuntime(e.getenv)
	e.term = ui.New(e.err)
	e.log = e.cfg.Log.Logger(e.term)
	if e.cpuProfile != "" {
		f, err := os.Create(e.cpuProfile)
		if err != nil {
			return usageError{err}
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		e.closers = append(e.closers, f.Close, func() error { pprof.StopCPUProfile(); return nil })
	}
	return nil
}

// report is a job's result as printed: JSON for machines, text for people.
type report interface {
	WriteJSON(w io.Writer) error
	WriteText(w io.Writer) error
}

// jsonFlag adds --json (help says what it prints) to fs.
func (e *env) jsonFlag(fs *pflag.FlagSet, help string) { fs.BoolVar(&e.asJSON, "json", false, help) }

// print removes the progress bar and prints r on stdout, as JSON with
// --json; runErr, the job's error, wins over an error of printing.
func (e *env) print(r report, runErr error) error {
	e.term.Done()
	var err error
	if e.asJSON {
		err = r.WriteJSON(e.out)
	} else {
		err = r.WriteText(e.out)
	}
	return cmp.Or(runErr, err)
}

// needsConfig tells whether cmd works on the lakehouse (help, version and
// shell completion do not, and run even when the configuration is broken).
func needsConfig(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		switch c.Name() {
		case "help", "version", "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
			return false
		}
	}
	return true
}

// landing opens the landing zone.
func (e *env) landing(ctx context.Context) (objstore.Bucket, error) {
	return objstore.Open(ctx, e.cfg.Landing, e.cfg.S3Options())
}

// catalog opens the catalog and makes sure every table exists.
func (e *env) catalog(ctx context.Context) (*catalog.Catalog, error) {
	cat, err := catalog.Open(ctx, e.cfg.CatalogOptions(e.log))
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, cat.Close)
	if err := cat.Ensure(ctx, schema.All()...); err != nil {
		return nil, err
	}
	return cat, nil
}

// lake opens the landing zone and the catalog, the pair most jobs need,
// and the locks of the lakehouse.
func (e *env) lake(ctx context.Context) (objstore.Bucket, *catalog.Catalog, lock.Locker, error) {
	store, err := e.landing(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	cat, err := e.catalog(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	return store, cat, lock.For(cat), nil
}

// alerter returns the alert state machine over the configured channels
// (recording only, when none is configured).
func (e *env) alerter(ctx context.Context, cat *catalog.Catalog) (*alert.Alerter, error) {
	fan, err := alert.NewChannels(ctx, e.cfg.Alerts.ChannelOptions())
	if err != nil {
		return nil, usageError{err}
	}
	return alert.NewAlerter(committer(cat, e.getenv), e.cfg.Alerts.RunbookBase, fan, e.log), nil
}

// jobCatalog is what the jobs need of the catalog: load and commit.
type jobCatalog interface {
	Load(ctx context.Context, t schema.Table) (*table.Table, error)
	Commit(ctx context.Context, t schema.Table, build func(*table.Table, *table.Transaction) error) (*table.Table, error)
}
