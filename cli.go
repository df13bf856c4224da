package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"text/tabwriter"
	"time"
)

// Set at build time with
// -ldflags "-X main.version=... -X main.commit=... -X main.date=...";
// when empty, version reads what the Go toolchain stamped in the binary.
var version, commit, date string

// writeHelp prints every command and every environment variable.
func writeHelp(w io.Writer) {
	fmt.Fprintln(w, "healthcare: the clinic API server (GraphQL, REST and the admin console).")
	fmt.Fprintln(w, "\nUsage: healthcare [command] [arguments]\n\nCommands:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.help)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nEnvironment (also read from ./.env; a variable set in the environment wins).")
	fmt.Fprintln(w, "An unset or blank variable takes its default; an invalid one stops every command but help and version.")
	writeEnvHelp(w)
	fmt.Fprintln(w, "\nDeployment, backups, key rotation and upgrades: docs/operations.md.")
}

// buildInfo says what was built, and when.
type buildInfo struct {
	Version, Commit, Date string
	Modified              bool // built from a work tree with uncommitted changes
	Go                    string
}

// readBuildInfo takes what -ldflags set and fills the rest from what the
// Go toolchain stamped: the module version and the VCS revision, time and
// modified flag.
func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date, Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		b.Version = cmp.Or(b.Version, "devel")
		return b
	}
	if v := bi.Main.Version; b.Version == "" && v != "" && v != "(devel)" {
		b.Version = v
	}
	var rev string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
			b.Commit = cmp.Or(b.Commit, s.Value)
		case "vcs.time":
			b.Date = cmp.Or(b.Date, s.Value)
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	if rev != b.Commit {
		b.Modified = false // the flag speaks of another revision
	}
	b.Version = cmp.Or(b.Version, "devel")
	return b
}

func writeVersion(w io.Writer, b buildInfo) {
	commit := cmp.Or(b.Commit, "unknown")
	if b.Modified {
		commit += " (modified)"
	}
	fmt.Fprintf(w, "healthcare %s\ncommit: %s\nbuilt:  %s\ngo:     %s %s/%s\n",
		b.Version, commit, cmp.Or(b.Date, "unknown"), b.Go, runtime.GOOS, runtime.GOARCH)
}

// healthcheck asks the server configured by cfg whether it is ready (GET
// /readyz) and fails unless it answers 200. It needs no shell or curl, so
// it serves as the HEALTHCHECK of an image with nothing but the binary.
func healthcheck(ctx context.Context, cfg *config, out io.Writer) error {
	host := cfg.Host
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(cfg.Port)) + "/readyz"
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s answered %s %s", url, resp.Status, body)
	}
	fmt.Fprintf(out, "ready: %s %s", url, body)
	return nil
}
