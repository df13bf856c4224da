package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"healthcare/auth"
	"healthcare/models"
)

// createSuperuser creates a superuser the way Django's command does:
// interactively, or with --noinput from DJANGO_SUPERUSER_EMAIL,
// DJANGO_SUPERUSER_PASSWORD and DJANGO_SUPERUSER_NAME. The password rules
// of registration apply.
func createSuperuser(ctx context.Context, svc *auth.Service, args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("createsuperuser", flag.ContinueOnError)
	noInput := fs.Bool("noinput", false, "read DJANGO_SUPERUSER_EMAIL, DJANGO_SUPERUSER_PASSWORD and DJANGO_SUPERUSER_NAME instead of prompting")
	fs.BoolVar(noInput, "no-input", false, "same as --noinput")
	email := fs.String("email", "", "the superuser's email")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ri models.RegisterInput
	if *noInput {
		ri = models.RegisterInput{
			Email:    firstNonEmpty(*email, os.Getenv("DJANGO_SUPERUSER_EMAIL")),
			Password: os.Getenv("DJANGO_SUPERUSER_PASSWORD"),
			Name:     firstNonEmpty(os.Getenv("DJANGO_SUPERUSER_NAME"), "Administrator"),
		}
		if ri.Email == "" || ri.Password == "" {
			return errors.New("--noinput needs DJANGO_SUPERUSER_EMAIL and DJANGO_SUPERUSER_PASSWORD")
		}
		ri.PasswordConfirm = ri.Password
	} else {
		r := bufio.NewReader(in)
		prompt := func(label string) (string, error) {
			fmt.Fprintf(out, "%s: ", label)
			s, err := r.ReadString('\n')
			if err != nil && s == "" {
				return "", fmt.Errorf("reading %s: %w", strings.ToLower(label), err)
			}
			return strings.TrimSpace(s), nil
		}
		secret := func(label string) (string, error) {
			if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				fmt.Fprintf(out, "%s: ", label)
				b, err := term.ReadPassword(int(f.Fd()))
				fmt.Fprintln(out)
				return string(b), err
			}
			return prompt(label)
		}
		var err error
		if ri.Email = *email; ri.Email == "" {
			if ri.Email, err = prompt("Email"); err != nil {
				return err
			}
		}
		if ri.Name, err = prompt("Name"); err != nil {
			return err
		}
		if ri.Password, err = secret("Password"); err != nil {
			return err
		}
		if ri.PasswordConfirm, err = secret("Password (again)"); err != nil {
			return err
		}
	}
	u, err := svc.CreateSuperuser(ctx, ri)
	if err != nil {
		var me *models.Error
		if errors.As(err, &me) && len(me.Fields) > 0 {
			var b strings.Builder
			for f, msgs := range me.Fields {
				fmt.Fprintf(&b, "\n  %s: %s", f, strings.Join(msgs, " "))
			}
			return fmt.Errorf("superuser not created:%s", b.String())
		}
		return err
	}
	fmt.Fprintf(out, "Superuser created successfully (id %d, %s).\n", u.ID, u.Email)
	return nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
