package models_test

import (
	"encoding/base64"
	"math"
	"testing"

	"healthcare/models"
)

func TestCursor(t *testing.T) {
	for _, id := range []int64{1, 42, math.MaxInt64} {
		c := models.Cursor(id)
		got, ok := models.ParseCursor(c)
		if !ok || got != id {
			t.Errorf("ParseCursor(Cursor(%d)) = %d, %v", id, got, ok)
		}
	}
	t.Run("opaque", func(t *testing.T) {
		if c := models.Cursor(42); c == "42" {
			t.Fatalf("Cursor(42) = %q, want an opaque string", c)
		}
	})
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tt := range []struct{ name, in string }{
		{"empty", ""},
		{"not_base64", "not a cursor!"},
		{"padded", models.Cursor(42) + "="},
		{"wrong_prefix", enc("x42")},
		{"prefix_only", enc("c")},
		{"zero_id", enc("c0")},
		{"negative_id", enc("c-1")},
		{"letters", enc("cabc")},
		{"overflow", enc("c9223372036854775808")},
	} {
		t.Run("rejects_"+tt.name, func(t *testing.T) {
			if id, ok := models.ParseCursor(tt.in); ok {
				t.Fatalf("ParseCursor(%q) = %d, true; want false", tt.in, id)
			}
		})
	}
}

func TestPageRequestCheck(t *testing.T) {
	c42 := models.Cursor(42)
	tests := []struct {
		name string
		req  models.PageRequest
		want models.Keyset
		err  map[string][]string
	}{
		{name: "defaults", want: models.Keyset{Limit: 20}},
		{name: "first_0_ok", req: models.PageRequest{First: ptr(0)}, want: models.Keyset{Limit: 0}},
		{name: "first_100_ok", req: models.PageRequest{First: ptr(100)}, want: models.Keyset{Limit: 100}},
		{name: "first_over_100", req: models.PageRequest{First: ptr(101)}, err: msg("first", "must be between 0 and 100")},
		{name: "first_negative", req: models.PageRequest{First: ptr(-1)}, err: msg("first", "must be between 0 and 100")},
		{name: "last_100_ok_backward", req: models.PageRequest{Last: ptr(100)}, want: models.Keyset{Limit: 100, Backward: true}},
		{name: "last_over_100", req: models.PageRequest{Last: ptr(101)}, err: msg("last", "must be between 0 and 100")},
		{name: "last_negative", req: models.PageRequest{Last: ptr(-5)}, err: msg("last", "must be between 0 and 100")},
		{name: "first_and_last", req: models.PageRequest{First: ptr(5), Last: ptr(5)}, err: msg("last", "Use either first or last, not both.")},
		{
			name: "first_and_last_both_out_of_range",
			req:  models.PageRequest{First: ptr(-1), Last: ptr(101)},
			err:  map[string][]string{"first": {"must be between 0 and 100"}, "last": {"Use either first or last, not both.", "must be between 0 and 100"}},
		},
		{name: "bad_after", req: models.PageRequest{After: "nope"}, err: msg("after", "is not a valid cursor")},
		{name: "bad_before", req: models.PageRequest{Before: "nope"}, err: msg("before", "is not a valid cursor")},
		{name: "bad_after_and_before", req: models.PageRequest{After: "x", Before: "y"}, err: f("after", "before")},
		{name: "negative_offset", req: models.PageRequest{Offset: -1}, err: msg("page", "must be positive")},
		{name: "offset_kept", req: models.PageRequest{First: ptr(10), Offset: 30}, want: models.Keyset{Limit: 10, Offset: 30}},
		{name: "first_after_forward", req: models.PageRequest{First: ptr(10), After: c42}, want: models.Keyset{Limit: 10, AfterID: 42}},
		{name: "after_default_limit", req: models.PageRequest{After: c42}, want: models.Keyset{Limit: 20, AfterID: 42}},
		{name: "cursor_whitespace_trimmed", req: models.PageRequest{After: " " + c42 + "\n"}, want: models.Keyset{Limit: 20, AfterID: 42}},
		{name: "before_backward", req: models.PageRequest{Before: c42}, want: models.Keyset{Limit: 20, Backward: true, AfterID: 42}},
		{name: "last_before_backward", req: models.PageRequest{Last: ptr(3), Before: c42}, want: models.Keyset{Limit: 3, Backward: true, AfterID: 42}},
		{name: "last_without_cursor_backward", req: models.PageRequest{Last: ptr(7)}, want: models.Keyset{Limit: 7, Backward: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.req.Check()
			if tt.err != nil {
				checkInvalid(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatalf("Check() = %v", err)
			}
			if got != tt.want {
				t.Fatalf("Check() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
