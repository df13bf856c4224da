package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"healthcare/audit"
	"healthcare/djangoimport"

	"golang.org/x/term"
)

const importUsage = `usage: healthcare import-django [--dry-run] [--skip-invalid] [--batch N] SOURCE

SOURCE is the Django reference's database:
  postgres://user:password@host:5432/dbname?sslmode=disable
  sqlite:///absolute/path/to/db.sqlite3

It imports users (with their password hashes), doctors, patients and
mappings into the configured database (DATABASE_URL or SQLITE_PATH),
keeping their ids. See docs/migrating-from-django.md.
`

// importDjango is the import-django command. Refused rows and notes go to
// stdout as they are found, then a summary per table; progress goes to
// stderr (one redrawn line on a terminal, a line per table otherwise).
func importDjango(ctx context.Context, a *app, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import-django", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage); fs.PrintDefaults() }
	dry := fs.Bool("dry-run", false, "read and check everything, write nothing: list what would be imported and every row that would be refused")
	skip := fs.Bool("skip-invalid", false, "skip refused rows (each is reported) instead of stopping at the first batch that has one")
	batch := fs.Int("batch", 5000, "rows per transaction")
	// Flags may come before or after SOURCE.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) != 1 || *batch < 1 {
		fs.Usage()
		return errors.New("import-django takes one SOURCE (and a --batch of at least 1)")
	}
	sealer := a.cipher
	if sealer == nil {
		return errors.New("no field encryption key: set FIELD_ENCRYPTION_KEY, medical fields are sealed as they are imported")
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	src, err := djangoimport.OpenSource(ctx, pos[0])
	if err != nil {
		return err
	}
	defer src.Close()

	live := isTerminal(stderr)
	start := time.Now().UTC()
	im := &djangoimport.Importer{
		Source: src, Target: a.db, Sealer: sealer,
		Audit: audit.Imports{Trail: a.audit, Run: "import-django " + start.Format(time.RFC3339)},
		Options: djangoimport.Options{
			DryRun: *dry, SkipInvalid: *skip, BatchSize: *batch, Progress: stderr, Live: live,
			OnProblem: func(p djangoimport.Problem) {
				if live {
					fmt.Fprint(stderr, "\r\x1b[K")
				}
				fmt.Fprintln(stdout, p.String())
			},
		},
	}
	rep, err := im.Run(ctx)
	if rep != nil {
		printImportReport(stdout, src.String(), rep)
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("import-django interrupted: the batches committed so far stay, and running it again resumes")
	}
	return err
}

func printImportReport(w io.Writer, source string, rep *djangoimport.Report) {
	verb := "imported"
	if rep.DryRun {
		verb = "would import"
		fmt.Fprintf(w, "\nDry run of the import of %s: nothing was written.\n", source)
	} else {
		fmt.Fprintf(w, "\nImport of %s:\n", source)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "table\tinto\trows\t%s\talready here\trefused\tnotes\ttime\t\n", verb)
	for _, t := range rep.Tables {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t\n", t.Table, t.Target, t.Read, t.Written, t.Present, t.Refused, t.Notes, t.Elapsed.Round(time.Millisecond))
	}
	_ = tw.Flush()
	if n := rep.Refused(); n > 0 {
		fmt.Fprintf(w, "%d %s refused (listed above).\n", n, plural(n, "row was", "rows were"))
	}
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// isTerminal reports whether w is a terminal (progress is redrawn in place
// there, and kept to a line per table anywhere else).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return term.IsTerminal(int(f.Fd())) && !strings.EqualFold(os.Getenv("TERM"), "dumb")
}
