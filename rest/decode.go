package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"healthcare/models"
)

// readObject reads the request body as one JSON object, keyed by field. An
// empty body is an empty object (every required field is then reported
// missing, as Django REST framework does). A body without a JSON
// Content-Type, malformed JSON, trailing data after the object, or JSON
// that is not an object is refused before any field is looked at.
func readObject(r *http.Request) (map[string]json.RawMessage, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, &bodyError{err: err}
		}
		body = b
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		return nil, &unsupportedMediaTypeError{contentType: ct}
	}
	if !json.Valid(body) {
		var v any
		err := json.Unmarshal(body, &v)
		msg := "JSON parse error."
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// The decoder's message names at most one character of the body.
			msg = fmt.Sprintf("JSON parse error at byte %d: %s.", se.Offset, se.Error())
		} else if err == nil {
			msg = "JSON parse error: unexpected data after the JSON object."
		}
		return nil, &models.Error{Code: models.CodeInvalid, Message: msg, Fields: map[string][]string{nonFieldErrors: {msg}}}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		msg := fmt.Sprintf("Invalid data. Expected a dictionary, but got %s.", jsonKind(body))
		return nil, &models.Error{Code: models.CodeInvalid, Message: msg, Fields: map[string][]string{nonFieldErrors: {msg}}}
	}
	return obj, nil
}

// decode reads the request body into a new T (a models input): fields of
// the wrong type are left unset and named in its Unreadable field, for its
// Validate to report with every other failing field.
func decode[T any](r *http.Request) (T, error) {
	var in T
	obj, err := readObject(r)
	if err != nil {
		return in, err
	}
	fe := fill(&in, obj)
	if len(fe) > 0 {
		f := reflect.ValueOf(&in).Elem().FieldByName("Unreadable")
		if !f.IsValid() {
			return in, fe.Err()
		}
		f.Set(reflect.ValueOf(fe))
	}
	return in, nil
}

// isJSON reports whether a Content-Type names JSON (application/json or any
// application/*+json) in UTF-8, the only encoding JSON may be sent in
// (RFC 8259): a charset parameter naming anything else is refused rather
// than read as UTF-8.
func isJSON(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// jsonKind names the kind of a valid JSON value, as DRF does.
func jsonKind(b []byte) string {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return "nothing"
	case b[0] == '[':
		return "list"
	case b[0] == '"':
		return "str"
	case b[0] == 't' || b[0] == 'f':
		return "bool"
	case b[0] == 'n':
		return "null"
	default:
		return "number"
	}
}

// Messages for a field whose JSON value has the wrong type (DRF's wording).
const (
	msgNotString = "Not a valid string."
	msgNotInt    = "A valid integer is required."
	msgNotNumber = "A valid number is required."
	msgNotBool   = "Must be a valid boolean."
	msgNotNull   = "This field may not be null."
	msgBadDate   = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
)

var dateType = reflect.TypeFor[models.Date]()

// fill sets the fields of the struct dst points to (a models input or
// patch) from obj, matching keys to json tags. Keys dst has no field for
// (unknown and read-only ones such as id, created_at or owner) are ignored.
// It returns one message for each key whose value has the wrong type; that
// field is left unset. A null sets text and date fields to their zero
// value, which the models read as blank or cleared.
func fill(dst any, obj map[string]json.RawMessage) models.FieldErrors {
	var fe models.FieldErrors
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		raw, ok := obj[name]
		if !ok {
			continue
		}
		if msg := setField(v.Field(i), raw); msg != "" {
			fe.Add(name, msg)
		}
	}
	return fe
}

// setField decodes raw into fv (a value or a pointer to one); it returns a
// message for the client when raw has the wrong type.
func setField(fv reflect.Value, raw json.RawMessage) string {
	typ := fv.Type()
	base := typ
	if typ.Kind() == reflect.Pointer {
		base = typ.Elem()
	}
	val := reflect.New(base).Elem()
	var x any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return msgNotString // unreachable: raw came from a valid object
	}
	switch {
	case base == dateType:
		switch s := x.(type) {
		case nil:
		case string:
			d, err := models.ParseDate(strings.TrimSpace(s))
			if errors.Is(err, models.ErrDateRange) {
				return models.DateMessage(err)
			}
			if err != nil {
				return msgBadDate
			}
			val.Set(reflect.ValueOf(d))
		default:
			return msgBadDate
		}
	case base.Kind() == reflect.String:
		switch s := x.(type) {
		case nil:
		case string:
			val.SetString(s)
		case json.Number:
			// DRF's CharField takes a number as its text (a postal code
			// sent as 400001).
			val.SetString(s.String())
		default:
			return msgNotString
		}
	case base.Kind() >= reflect.Int && base.Kind() <= reflect.Int64:
		if x == nil {
			return msgNotNull
		}
		n, ok := intOf(x)
		if !ok || val.OverflowInt(n) {
			return msgNotInt
		}
		val.SetInt(n)
	case base.Kind() == reflect.Float64 || base.Kind() == reflect.Float32:
		if x == nil {
			return msgNotNull
		}
		n, ok := floatOf(x)
		if !ok {
			return msgNotNumber
		}
		val.SetFloat(n)
	case base.Kind() == reflect.Bool:
		if x == nil {
			return msgNotNull
		}
		b, ok := boolOf(x)
		if !ok {
			return msgNotBool
		}
		val.SetBool(b)
	default:
		panic(fmt.Sprintf("rest: fill: unsupported field type %s", typ))
	}
	if typ.Kind() == reflect.Pointer {
		p := reflect.New(base)
		p.Elem().Set(val)
		fv.Set(p)
	} else {
		fv.Set(val)
	}
	return ""
}

// intOf reads a JSON integer, an integral number (15.0) or a string holding
// one ("15"), as DRF's IntegerField does.
func intOf(x any) (int64, bool) {
	var s string
	switch v := x.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
	default:
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// floatOf reads a JSON number or a string holding a finite one.
func floatOf(x any) (float64, bool) {
	var s string
	switch v := x.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// boolOf reads true/false, the strings "true"/"false" and the numbers 1/0.
func boolOf(x any) (bool, bool) {
	switch v := x.(type) {
	case bool:
		return v, true
	case string:
		return parseBool(v)
	case json.Number:
		return parseBool(v.String())
	}
	return false, false
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}
