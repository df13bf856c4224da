// Command image builds and runs the container image without a Docker
// engine, for CI machines that have none.
//
//	image build -f Dockerfile -stage build=DIR [-build-arg K=V]... -tag NAME -o IMAGE.tar
//	image run -i IMAGE.tar [-e K=V]... [-timeout 90s]
//	image compose -f compose.yaml -env-file FILE
//
// build reads the final stage of the Dockerfile and applies its
// instructions to an empty image: each COPY becomes a layer (from DIR,
// which stands for the root of the named build stage, or from the build
// context), and USER, WORKDIR, ENV, VOLUME, EXPOSE, HEALTHCHECK, LABEL,
// ENTRYPOINT and CMD go to the image config as Docker would put them. The
// final stage must start FROM scratch (no base image can be pulled here)
// and use the exec (JSON) form, since scratch has no shell. The result is
// a `docker load`-able tarball, read back and validated before it is kept.
//
// run checks the image's policy (a numeric non-root user, a volume, a
// health check), unpacks its layers into a temporary root, starts the
// entrypoint there with chroot as the image's user, with the image's
// environment plus -e, runs the image's HEALTHCHECK command the same way
// until it passes, checks that the server wrote its files into the volume
// as that user, then stops it with SIGTERM and expects a clean exit. It
// needs root (chroot); the network is the host's, so pass -e PORT=....
//
// compose loads a compose file with the Compose specification's loader
// and checks what the deployment relies on (see compose.go).
package main

import (
	"archive/tar"
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: image build|run|compose [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = build(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	case "compose":
		err = compose(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (build, run, compose)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

// multi is a repeatable K=V flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func build(args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	dockerfile := fs.String("f", "Dockerfile", "the Dockerfile")
	contextDir := fs.String("context", ".", "the build context, for COPY without --from")
	out := fs.String("o", "image.tar", "where to write the image tarball")
	tag := fs.String("tag", "healthcare:latest", "the image's name in the tarball")
	created := fs.String("created", "", "creation time (RFC 3339; default: SOURCE_DATE_EPOCH, else now)")
	var stages, buildArgs multi
	fs.Var(&stages, "stage", "NAME=DIR: DIR stands for the root of build stage NAME (repeatable)")
	fs.Var(&buildArgs, "build-arg", "K=V for the ARGs of the final stage (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	when, err := creationTime(*created)
	if err != nil {
		return err
	}
	stageDirs := map[string]string{}
	for _, s := range stages {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("-stage %q: want NAME=DIR", s)
		}
		stageDirs[k] = v
	}
	argValues := map[string]string{}
	for _, s := range buildArgs {
		k, v, _ := strings.Cut(s, "=")
		argValues[k] = v
	}
	instrs, err := finalStage(*dockerfile)
	if err != nil {
		return err
	}

	cfg := v1.Config{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}
	var layers []v1.Layer
	var history []v1.History
	declared := map[string]string{}
	expand := func(s string) string {
		return os.Expand(s, func(k string) string {
			if v, ok := declared[k]; ok {
				return v
			}
			for _, e := range cfg.Env {
				if ek, ev, _ := strings.Cut(e, "="); ek == k {
					return ev
				}
			}
			return ""
		})
	}
	for _, in := range instrs {
		rest := in.rest
		switch in.cmd {
		case "FROM":
			if f := strings.Fields(rest); len(f) == 0 || f[0] != "scratch" {
				return fmt.Errorf("line %d: the final stage must be FROM scratch (no base image can be pulled)", in.line)
			}
		case "ARG":
			k, def, _ := strings.Cut(rest, "=")
			k = strings.TrimSpace(k)
			v, ok := argValues[k]
			if !ok {
				v = def
			}
			declared[k] = v
		case "COPY":
			l, err := copyLayer(in, expand, stageDirs, *contextDir, when)
			if err != nil {
				return err
			}
			layers = append(layers, l)
		case "USER":
			cfg.User = expand(rest)
		case "WORKDIR":
			cfg.WorkingDir = path.Join(cfg.WorkingDir, expand(rest))
			if !path.IsAbs(cfg.WorkingDir) {
				cfg.WorkingDir = "/" + cfg.WorkingDir
			}
		case "ENV":
			kvs, err := keyValues(rest)
			if err != nil {
				return fmt.Errorf("line %d: ENV: %w", in.line, err)
			}
			for _, kv := range kvs {
				kv[1] = expand(kv[1])
				cfg.Env = slices.DeleteFunc(cfg.Env, func(e string) bool { return strings.HasPrefix(e, kv[0]+"=") })
				cfg.Env = append(cfg.Env, kv[0]+"="+kv[1])
			}
		case "LABEL":
			kvs, err := keyValues(rest)
			if err != nil {
				return fmt.Errorf("line %d: LABEL: %w", in.line, err)
			}
			if cfg.Labels == nil {
				cfg.Labels = map[string]string{}
			}
			for _, kv := range kvs {
				cfg.Labels[kv[0]] = expand(kv[1])
			}
		case "VOLUME":
			vols, err := jsonOrFields(rest)
			if err != nil {
				return fmt.Errorf("line %d: VOLUME: %w", in.line, err)
			}
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			for _, v := range vols {
				cfg.Volumes[expand(v)] = struct{}{}
			}
		case "EXPOSE":
			if cfg.ExposedPorts == nil {
				cfg.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range strings.Fields(rest) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				cfg.ExposedPorts[expand(p)] = struct{}{}
			}
		case "ENTRYPOINT", "CMD":
			argv, err := execForm(rest)
			if err != nil {
				return fmt.Errorf("line %d: %s: %w", in.line, in.cmd, err)
			}
			if in.cmd == "ENTRYPOINT" {
				cfg.Entrypoint, cfg.Cmd = argv, nil // as Docker: a new ENTRYPOINT resets CMD
			} else {
				cfg.Cmd = argv
			}
		case "HEALTHCHECK":
			hc, err := healthcheck(rest)
			if err != nil {
				return fmt.Errorf("line %d: HEALTHCHECK: %w", in.line, err)
			}
			cfg.Healthcheck = hc
		default:
			return fmt.Errorf("line %d: %s is not supported in the final stage", in.line, in.cmd)
		}
		history = append(history, v1.History{Created: v1.Time{Time: when}, CreatedBy: in.cmd + " " + in.rest, EmptyLayer: in.cmd != "COPY"})
	}

	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = runtime.GOARCH, "linux"
	cf.Created = v1.Time{Time: when}
	cf.Config = cfg
	cf.History = history
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	ref, err := name.NewTag(*tag)
	if err != nil {
		return fmt.Errorf("-tag: %w", err)
	}
	if err := tarball.WriteToFile(*out, ref, img); err != nil {
		return err
	}
	// Read the file back, as docker load would, and check every digest.
	back, err := tarball.ImageFromPath(*out, nil)
	if err != nil {
		return fmt.Errorf("read back %s: %w", *out, err)
	}
	if err := validate.Image(back); err != nil {
		return fmt.Errorf("%s is not a valid image: %w", *out, err)
	}
	digest, _ := back.Digest()
	fmt.Printf("image %s: %s (%d layers, %s)\n", ref, digest, len(layers), *out)
	summary, _ := json.MarshalIndent(cfg, "", "  ")
	fmt.Printf("config: %s\n", summary)
	return nil
}

func creationTime(s string) (time.Time, error) {
	if s != "" {
		return time.Parse(time.RFC3339, s)
	}
	if e := os.Getenv("SOURCE_DATE_EPOCH"); e != "" {
		n, err := strconv.ParseInt(e, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Now().UTC().Truncate(time.Second), nil
}

type instruction struct {
	line      int
	cmd, rest string
}

// finalStage returns the instructions from the last FROM on, with line
// continuations joined and comments dropped.
func finalStage(file string) ([]instruction, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var all []instruction
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		cmd, rest, _ := strings.Cut(cur.String(), " ")
		all = append(all, instruction{start, strings.ToUpper(cmd), strings.TrimSpace(rest)})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	last := -1
	for i, in := range all {
		if in.cmd == "FROM" {
			last = i
		}
	}
	if last < 0 {
		return nil, fmt.Errorf("%s has no FROM", file)
	}
	return all[last:], nil
}

// keyValues parses K=V pairs, values optionally double-quoted.
func keyValues(s string) ([][2]string, error) {
	var out [][2]string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		k, rest, ok := strings.Cut(s, "=")
		if !ok || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%q: want KEY=VALUE", s)
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := 1
			for end < len(rest) && (rest[end] != '"' || rest[end-1] == '\\') {
				end++
			}
			if end == len(rest) {
				return nil, fmt.Errorf("unterminated quote in %q", s)
			}
			uq, err := strconv.Unquote(rest[:end+1])
			if err != nil {
				return nil, err
			}
			v, s = uq, rest[end+1:]
		} else {
			v, s, _ = strings.Cut(rest, " ")
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

func execForm(s string) ([]string, error) {
	var argv []string
	if err := json.Unmarshal([]byte(s), &argv); err != nil || len(argv) == 0 {
		return nil, errors.New("use the exec form, [\"/path\", \"arg\"]: a scratch image has no shell")
	}
	return argv, nil
}

func jsonOrFields(s string) ([]string, error) {
	if strings.HasPrefix(s, "[") {
		var v []string
		return v, json.Unmarshal([]byte(s), &v)
	}
	return strings.Fields(s), nil
}

func healthcheck(s string) (*v1.HealthConfig, error) {
	hc := &v1.HealthConfig{}
	for strings.HasPrefix(s, "--") {
		opt, rest, _ := strings.Cut(s, " ")
		s = strings.TrimSpace(rest)
		k, v, _ := strings.Cut(strings.TrimPrefix(opt, "--"), "=")
		var err error
		switch k {
		case "interval":
			hc.Interval, err = time.ParseDuration(v)
		case "timeout":
			hc.Timeout, err = time.ParseDuration(v)
		case "start-period":
			hc.StartPeriod, err = time.ParseDuration(v)
		case "retries":
			hc.Retries, err = strconv.Atoi(v)
		default:
			err = errors.New("unknown option")
		}
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", k, err)
		}
	}
	if s == "NONE" {
		return &v1.HealthConfig{Test: []string{"NONE"}}, nil
	}
	cmd, rest, _ := strings.Cut(s, " ")
	if cmd != "CMD" {
		return nil, fmt.Errorf("want CMD [...] or NONE, got %q", s)
	}
	argv, err := execForm(strings.TrimSpace(rest))
	if err != nil {
		return nil, err
	}
	hc.Test = append([]string{"CMD"}, argv...)
	return hc, nil
}

// copyLayer makes one layer from a COPY instruction: [--from=STAGE]
// [--chown=UID:GID] SRC... DEST. A source directory contributes its
// contents, as in Docker; files keep their mode, owned by root unless
// --chown says otherwise, with one timestamp so the layer is repeatable.
func copyLayer(in instruction, expand func(string) string, stages map[string]string, contextDir string, when time.Time) (v1.Layer, error) {
	f := strings.Fields(in.rest)
	root := contextDir
	uid, gid := 0, 0
	for len(f) > 0 && strings.HasPrefix(f[0], "--") {
		k, v, _ := strings.Cut(strings.TrimPrefix(f[0], "--"), "=")
		switch k {
		case "from":
			dir, ok := stages[v]
			if !ok {
				return nil, fmt.Errorf("line %d: COPY --from=%s: say where that stage's files are with -stage %s=DIR", in.line, v, v)
			}
			root = dir
		case "chown":
			u, g, _ := strings.Cut(v, ":")
			var err1, err2 error
			uid, err1 = strconv.Atoi(u)
			gid, err2 = strconv.Atoi(cmp.Or(g, u))
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("line %d: --chown=%s: use numeric ids (a scratch image has no /etc/passwd)", in.line, v)
			}
		default:
			return nil, fmt.Errorf("line %d: COPY --%s is not supported", in.line, k)
		}
		f = f[1:]
	}
	if len(f) < 2 {
		return nil, fmt.Errorf("line %d: COPY needs a source and a destination", in.line)
	}
	dest := expand(f[len(f)-1])
	var buf strings.Builder
	tw := tar.NewWriter(&nopStringWriter{&buf})
	written := map[string]bool{}
	addDir := func(name string, mode int64, u, g int) error {
		if written[name] || name == "." {
			return nil
		}
		written[name] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: u, Gid: g, ModTime: when, Format: tar.FormatPAX})
	}
	// Parents of the destination exist in any image; give them root's 0755.
	parents := func(p string) error {
		var dirs []string
		for d := path.Dir(p); d != "." && d != "/" && d != ""; d = path.Dir(d) {
			dirs = append([]string{d}, dirs...)
		}
		for _, d := range dirs {
			if err := addDir(strings.TrimPrefix(d, "/"), 0o755, 0, 0); err != nil {
				return err
			}
		}
		return nil
	}
	for _, src := range f[:len(f)-1] {
		host := filepath.Join(root, filepath.FromSlash(expand(src)))
		st, err := os.Stat(host)
		if err != nil {
			return nil, fmt.Errorf("line %d: COPY %s: %w", in.line, src, err)
		}
		target := dest
		if !st.IsDir() && strings.HasSuffix(dest, "/") {
			target = path.Join(dest, path.Base(src))
		}
		target = strings.TrimPrefix(path.Clean("/"+target), "/")
		if err := parents("/" + target + "/x"); err != nil {
			return nil, err
		}
		err = filepath.WalkDir(host, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(host, p)
			nameIn := path.Join(target, filepath.ToSlash(rel))
			if nameIn == "" || nameIn == "." {
				return nil // the root itself: its contents are what is copied
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			hdr, err := tar.FileInfoHeader(info, "")
			if err != nil {
				return err
			}
			if info.Mode()&fs.ModeSymlink != 0 {
				if hdr.Linkname, err = os.Readlink(p); err != nil {
					return err
				}
			}
			hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = nameIn, uid, gid, "", ""
			hdr.ModTime, hdr.AccessTime, hdr.ChangeTime, hdr.Format = when, time.Time{}, time.Time{}, tar.FormatPAX
			if d.IsDir() {
				if written[nameIn] {
					return nil
				}
				written[nameIn] = true
				hdr.Name += "/"
			}
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if info.Mode().IsRegular() {
				r, err := os.Open(p)
				if err != nil {
					return err
				}
				defer r.Close()
				_, err = io.Copy(tw, r)
				return err
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("line %d: COPY %s: %w", in.line, src, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.String()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil })
}

type nopStringWriter struct{ b *strings.Builder }

func (w *nopStringWriter) Write(p []byte) (int, error) { return w.b.Write(p) }
