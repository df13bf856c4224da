package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// compose loads compose.yaml as `docker compose --env-file F config`
// would (the Compose specification's own loader: schema, interpolation,
// env files) and checks what the deployment relies on: PostgreSQL 15 or
// later with a health check, and the server built from the Dockerfile,
// started after the database is healthy, taking its secrets from the env
// file and publishing its port on the loopback only.
func compose(args []string) error {
	fs := flag.NewFlagSet("compose", flag.ContinueOnError)
	file := fs.String("f", "compose.yaml", "the compose file")
	envFile := fs.String("env-file", "", "the env file passed with --env-file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := filepath.Dir(*file)
	opts, err := cli.NewProjectOptions([]string{*file},
		cli.WithWorkingDirectory(dir), cli.WithEnvFiles(*envFile), cli.WithDotEnv,
		cli.WithEnv(nil), cli.WithInterpolation(true), cli.WithNormalization(true), cli.WithConsistency(true))
	if err != nil {
		return err
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	var errs []error
	db, err := p.GetService("db")
	if err != nil {
		return err
	}
	major := 0
	if m := regexp.MustCompile(`^postgres:(\d+)`).FindStringSubmatch(db.Image); m != nil {
		major, _ = strconv.Atoi(m[1])
	}
	if major < 15 {
		errs = append(errs, fmt.Errorf("db: image %q is not PostgreSQL 15 or later", db.Image))
	}
	if db.HealthCheck == nil || len(db.HealthCheck.Test) == 0 {
		errs = append(errs, errors.New("db: no health check"))
	}
	app, err := p.GetService("app")
	if err != nil {
		return err
	}
	if app.Build == nil || filepath.Base(app.Build.Dockerfile) != "Dockerfile" {
		errs = append(errs, errors.New("app: not built from the Dockerfile"))
	}
	if dep, ok := app.DependsOn["db"]; !ok || dep.Condition != types.ServiceConditionHealthy {
		errs = append(errs, errors.New("app: does not wait for a healthy db"))
	}
	if len(app.EnvFiles) == 0 {
		errs = append(errs, errors.New("app: takes no env file"))
	}
	for _, k := range []string{"SECRET_KEY", "FIELD_ENCRYPTION_KEY"} {
		if v := app.Environment[k]; v == nil || *v == "" {
			errs = append(errs, fmt.Errorf("app: %s does not reach it from %s", k, *envFile))
		}
	}
	for _, port := range app.Ports {
		if port.HostIP != "127.0.0.1" {
			errs = append(errs, fmt.Errorf("app: port %d is published on %q, not the loopback", port.Target, port.HostIP))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, s := range []types.ServiceConfig{db, app} {
		keys := slices.Sorted(maps.Keys(s.Environment))
		fmt.Printf("compose: %s: image %s, environment %s\n", s.Name, s.Image, strings.Join(keys, " "))
	}
	return nil
}
