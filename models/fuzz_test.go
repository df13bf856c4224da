package models

// Fuzz targets for the field parsers every input goes through. CI runs the
// seeds (f.Add and testdata/fuzz/<FuzzName>/); explore with
// `go test -run='^$' -fuzz='^FuzzPhone$' ./models/`.

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// isE164 is ValidPhone written out by hand: a plus, a digit 1-9, then
// digits, 8 to 15 digits in all.
func isE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func FuzzPhone(f *testing.F) {
	for _, s := range []string{"+919876543210", "+91 98765-43210", "+1 (555) 010.0000", "+0123456789", "+1234567",
		"+1234567890123456", "919876543210", "++919876543210", "+91\t9876543210", "+९१९८७६५४३२१०", "\xff+919876543210", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizePhone(s)
		if strings.ContainsAny(n, " -.()\t") {
			t.Fatalf("NormalizePhone(%q) = %q keeps a separator", s, n)
		}
		if again := NormalizePhone(n); again != n {
			t.Fatalf("NormalizePhone not idempotent: %q -> %q -> %q", s, n, again)
		}
		for _, x := range []string{s, n} {
			if ValidPhone(x) != isE164(x) {
				t.Fatalf("ValidPhone(%q) = %v", x, ValidPhone(x))
			}
			if ValidPhone(x) && NormalizePhone(x) != x {
				t.Fatalf("valid %q changes when normalized", x)
			}
		}
	})
}

func FuzzEmail(f *testing.F) {
	for _, s := range []string{"abc@email.com", "Dr.Rajesh@Hospital.COM", " a@b.co ", "a@b", "a b@c.com", `"a b"@c.com`,
		"Ann <ann@example.com>", "a@[127.0.0.1]", "a@-b.com", "a@b-.com", "a..b@c.com", ".a@b.com", "a@b..com",
		strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + ".com", "ä@b.com", "a@b.com\x00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		valid := ValidEmail(s)
		norm := NormalizeEmail(s)
		if !valid {
			return
		}
		if len(s) > 254 || strings.Count(s, "@") != 1 {
			t.Fatalf("ValidEmail(%q): length %d, %d @", s, len(s), strings.Count(s, "@"))
		}
		for _, r := range s {
			if r >= utf8.RuneSelf || r <= ' ' || strings.ContainsRune(`"(),:;<>[\]`, r) {
				t.Fatalf("ValidEmail(%q) accepts %q", s, r)
			}
		}
		local, domain, _ := strings.Cut(s, "@")
		if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
			t.Fatalf("ValidEmail(%q) accepts local %q domain %q", s, local, domain)
		}
		if !ValidEmail(norm) {
			t.Fatalf("%q valid but its normal form %q is not", s, norm)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"1990-05-15", "2000-02-29", "1900-02-29", "1990-02-30", "0000-01-01", "0001-01-01",
		"9999-12-31", "1990-5-15", "15/05/1990", "1990-05-15T00:00:00Z", " 1990-05-15", "+1990-05-15", "-001-01-01", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, perr := ParseDate(s)
		if perr == nil {
			// One spelling per date: what parses prints back the same.
			if d.String() != s {
				t.Fatalf("ParseDate(%q) = %s", s, d)
			}
			b, err := d.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			var back Date
			if err := back.UnmarshalJSON(b); err != nil || !back.Equal(d.Time) {
				t.Fatalf("JSON round trip of %s: %v %s", d, err, back)
			}
		}
		var g Date
		if err := g.UnmarshalGQL(s); (err == nil) != (perr == nil) {
			t.Fatalf("UnmarshalGQL(%q) = %v", s, err)
		} else if err != nil {
			var me *Error
			if !errors.As(err, &me) || me.Code != CodeInvalid {
				t.Fatalf("UnmarshalGQL(%q) error %T %v", s, err, err)
			}
		}
		var j Date
		_ = j.UnmarshalJSON([]byte(s))
		var sc Date
		_ = sc.Scan(s)
		_ = sc.Scan([]byte(s))
	})
}

func FuzzPasswordProblems(f *testing.F) {
	for _, s := range [][3]string{
		{"Correct-Horse-42", "Test User", "test@example.com"}, {"12345678", "", ""}, {"password", "", ""},
		{"ann.sharma", "Ann Sharma", "ann@example.com"}, {"", "", ""}, {strings.Repeat("x", 257), "x", "x@x.x"},
		{"ÅÅÅÅÅÅÅÅ", "Å", ""}, {"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", "\xff", "\xfe"}, {"٣٤٥٦٧٨٩٠", "", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, pw, name, email string) {
		got := PasswordProblems(pw, map[string]string{"name": name, "email address": email})
		if again := PasswordProblems(pw, map[string]string{"name": name, "email address": email}); !slices.Equal(got, again) {
			t.Fatalf("not deterministic: %q then %q", got, again)
		}
		n := utf8.RuneCountInString(pw)
		has := func(prefix string) bool {
			return slices.ContainsFunc(got, func(m string) bool { return strings.HasPrefix(m, prefix) })
		}
		if has("This password is too short") != (n < PasswordMinLength) {
			t.Fatalf("%d characters: %q", n, got)
		}
		if has("This password is too long") != (n > PasswordMaxLength) {
			t.Fatalf("%d characters: %q", n, got)
		}
		if pw != "" && strings.ToLower(pw) == strings.ToLower(name) && !has("The password is too similar to the name") {
			t.Fatalf("password equal to the name passes: %q", got)
		}
		if len(got) == 0 && (n < PasswordMinLength || n > PasswordMaxLength) {
			t.Fatalf("%q accepted", pw)
		}
		for _, pair := range [][2]string{{pw, name}, {pw, email}, {name, email}} {
			r := quickRatio(pair[0], pair[1])
			if r < 0 || r > 1 || math.IsNaN(r) || r != quickRatio(pair[1], pair[0]) {
				t.Fatalf("quickRatio(%q, %q) = %v", pair[0], pair[1], r)
			}
		}
	})
}

func FuzzCursor(f *testing.F) {
	f.Add(int64(1), Cursor(1), 20, -1)
	f.Add(int64(math.MaxInt64), Cursor(math.MaxInt64), 0, 0)
	f.Add(int64(0), "YzA", 101, -5)
	f.Add(int64(-1), "Yy0x", -1, 100)
	f.Add(int64(42), "not a cursor", 1, 1)
	f.Add(int64(7), "Yys3", 5, -1)   // "c+7"
	f.Add(int64(7), "YzAwNw", 5, -1) // "c007"
	f.Add(int64(7), "YzEw==", 5, -1)
	f.Add(int64(7), "", -1, -1)
	f.Fuzz(func(t *testing.T, id int64, s string, first, last int) {
		if id > 0 {
			c := Cursor(id)
			if got, ok := ParseCursor(c); !ok || got != id {
				t.Fatalf("Cursor(%d) = %q parses to %d %v", id, c, got, ok)
			}
		} else if _, ok := ParseCursor(Cursor(id)); ok {
			t.Fatalf("cursor of id %d accepted", id)
		}
		got, ok := ParseCursor(s)
		if ok {
			if got <= 0 {
				t.Fatalf("ParseCursor(%q) = %d", s, got)
			}
			if back, ok := ParseCursor(Cursor(got)); !ok || back != got {
				t.Fatalf("ParseCursor(%q) = %d does not round-trip", s, got)
			}
		}
		// A page request of any shape is checked without a panic, and a
		// checked one asks for a bounded page.
		req := PageRequest{After: s, Before: s}
		if first >= 0 {
			req.Before = ""
			req.First = &first
		}
		if last >= 0 {
			req.After = ""
			req.Last = &last
		}
		k, err := req.Check()
		if err != nil {
			var me *Error
			if !errors.As(err, &me) || me.Code != CodeInvalid || len(me.Fields) == 0 {
				t.Fatalf("Check(%+v): %v", req, err)
			}
			return
		}
		if k.Limit < 0 || k.Limit > MaxPageSize || k.AfterID < 0 {
			t.Fatalf("Check(%+v) = %+v", req, k)
		}
	})
}
