package main

import (
	"archive/tar"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	image := fs.String("i", "image.tar", "the image tarball")
	timeout := fs.Duration("timeout", 90*time.Second, "how long the server may take to become healthy")
	var env multi
	fs.Var(&env, "e", "K=V added to the image's environment (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	img, err := tarball.ImageFromPath(*image, nil)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg := cf.Config
	uid, gid, err := numericUser(cfg.User)
	if err != nil {
		return err
	}
	if len(cfg.Volumes) != 1 {
		return fmt.Errorf("the image declares %d volumes; want one, for the database", len(cfg.Volumes))
	}
	var volume string
	for v := range cfg.Volumes {
		volume = v
	}
	if cfg.Healthcheck == nil || len(cfg.Healthcheck.Test) < 2 || cfg.Healthcheck.Test[0] != "CMD" {
		return errors.New("the image has no HEALTHCHECK CMD")
	}
	argv := append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)
	if len(argv) == 0 {
		return errors.New("the image has no ENTRYPOINT or CMD")
	}

	root, err := os.MkdirTemp("", "image-root-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	if err := os.Chmod(root, 0o755); err != nil { // it becomes /
		return err
	}
	if err := unpack(img, root); err != nil {
		return fmt.Errorf("unpack: %w", err)
	}
	fmt.Printf("run: %s unpacked into %s; user %d:%d, volume %s\n", *image, root, uid, gid, volume)

	environ := append(append([]string{}, cfg.Env...), env...)
	start := func(argv []string, stdout, stderr io.Writer) (*exec.Cmd, error) {
		c := &exec.Cmd{Path: argv[0], Args: argv, Env: environ, Dir: cmp.Or(cfg.WorkingDir, "/"), Stdout: stdout, Stderr: stderr}
		c.SysProcAttr = &syscall.SysProcAttr{
			Chroot:     root,
			Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}},
			Setpgid:    true,
			Pdeathsig:  syscall.SIGKILL,
		}
		return c, c.Start()
	}
	var serverLog strings.Builder
	server, err := start(argv, &serverLog, &serverLog)
	if err != nil {
		return fmt.Errorf("start %v: %w", argv, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- server.Wait() }()
	fail := func(err error) error {
		_ = server.Process.Kill()
		fmt.Fprintf(os.Stderr, "--- server log\n%s---\n", serverLog.String())
		return err
	}

	// The image's own health check, as the engine would run it.
	healthy := false
	deadline := time.Now().Add(*timeout)
	var lastCheck string
	for !healthy && time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fail(fmt.Errorf("the server exited before it was healthy: %v", err))
		case <-time.After(500 * time.Millisecond):
		}
		var out strings.Builder
		hc, err := start(cfg.Healthcheck.Test[1:], &out, &out)
		if err != nil {
			return fail(fmt.Errorf("health check %v: %w", cfg.Healthcheck.Test[1:], err))
		}
		healthy = hc.Wait() == nil
		lastCheck = out.String()
	}
	if !healthy {
		return fail(fmt.Errorf("not healthy after %s; last check: %s", *timeout, lastCheck))
	}
	fmt.Printf("run: healthy: %s\n", strings.TrimSpace(lastCheck))

	// The server keeps its database in the volume, as the image's user.
	entries, err := os.ReadDir(filepath.Join(root, volume))
	if err != nil {
		return fail(err)
	}
	var names []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			return fail(err)
		}
		st := info.Sys().(*syscall.Stat_t)
		if int(st.Uid) != uid {
			return fail(fmt.Errorf("%s/%s is owned by %d, not the image's user %d", volume, e.Name(), st.Uid, uid))
		}
		names = append(names, fmt.Sprintf("%s %v", e.Name(), info.Mode().Perm()))
	}
	if len(names) == 0 {
		return fail(fmt.Errorf("the server wrote nothing in the volume %s", volume))
	}
	fmt.Printf("run: in the volume %s: %s\n", volume, strings.Join(names, ", "))

	_ = syscall.Kill(server.Process.Pid, syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			return fail(fmt.Errorf("the server did not stop cleanly on SIGTERM: %v", err))
		}
	case <-time.After(45 * time.Second):
		return fail(errors.New("the server did not stop within 45s of SIGTERM"))
	}
	fmt.Println("run: stopped cleanly on SIGTERM")
	return nil
}

// numericUser parses USER as uid[:gid]; root and names are refused.
func numericUser(u string) (int, int, error) {
	us, gs, _ := strings.Cut(u, ":")
	uid, err1 := strconv.Atoi(us)
	gid, err2 := strconv.Atoi(cmp.Or(gs, us))
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("USER %q: want numeric uid:gid (a scratch image has no /etc/passwd)", u)
	}
	if uid == 0 {
		return 0, 0, errors.New("the image runs as root")
	}
	return uid, gid, nil
}

// unpack writes the image's flattened filesystem under root, with the
// owners and modes its layers give.
func unpack(img v1.Image, root string) error {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean("/" + h.Name)
		dst := filepath.Join(root, filepath.FromSlash(name))
		mode := os.FileMode(h.Mode).Perm()
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, dst); err != nil {
				return err
			}
			continue
		default:
			return fmt.Errorf("%s: unsupported entry type %c", h.Name, h.Typeflag)
		}
		if err := os.Lchown(dst, h.Uid, h.Gid); err != nil {
			return err
		}
		// Chmod after chown: chown clears the sticky and set-id bits.
		if h.Mode&01000 != 0 {
			mode |= os.ModeSticky
		}
		if err := os.Chmod(dst, mode); err != nil {
			return err
		}
	}
}
