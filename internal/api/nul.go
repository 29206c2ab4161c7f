package api

import (
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/hookline/hookline/internal/hookline"
)

// PostgreSQL's text and jsonb refuse the NUL character (SQLite stores it),
// so a string holding one would be a 500 on one store and data on the
// other. Every string the API reads is checked once, where it enters: in
// decode for JSON bodies and in RejectNUL for the URL. Bytes kept as
// bytes (json.RawMessage: an event's data, stored as bytea) may hold it.

// nulError is the EINVALID answer for a NUL in param.
func nulError(param, what string) error {
	return hookline.Invalid(param, "%s contains a NUL character (\\u0000), which Hookline does not store", what)
}

// findNUL walks a decoded value and returns the JSON path of the first
// string (or map key) holding a NUL (name.sub, list[2], map[key]), "" with
// ok false when there is none.
// []byte, json.RawMessage among them, is bytes, not text, and is skipped,
// as is a string field tagged nul:"bytes" (one stored as bytes).
func findNUL(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		return path, strings.IndexByte(v.String(), 0) >= 0
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", false
		}
		return findNUL(v.Elem(), path)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || f.Tag.Get("nul") == "bytes" {
				continue
			}
			sub := path
			if !f.Anonymous || name != "" { // an embedded struct's fields are the parent's
				if name == "" {
					name = f.Name
				}
				sub = joinPath(path, name)
			}
			if p, ok := findNUL(v.Field(i), sub); ok {
				return p, true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", false
		}
		for i := range v.Len() {
			if p, ok := findNUL(v.Index(i), path+"["+strconv.Itoa(i)+"]"); ok {
				return p, true
			}
		}
	case reflect.Map:
		// Sorted, so that the same body always names the same field.
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(keyString(a), keyString(b)) })
		for _, k := range keys {
			// headers[X-Foo], as the checks of endpoint headers name them
			// (a key may hold dots).
			sub := path + "[" + keyString(k) + "]"
			if strings.IndexByte(keyString(k), 0) >= 0 {
				return sub, true
			}
			if p, ok := findNUL(v.MapIndex(k), sub); ok {
				return p, true
			}
		}
	}
	return "", false
}

func keyString(k reflect.Value) string {
	if k.Kind() == reflect.String {
		return k.String()
	}
	return ""
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// checkNUL answers EINVALID naming the first field of a decoded body that
// holds a NUL.
func checkNUL(v any) error {
	if p, ok := findNUL(reflect.ValueOf(v), ""); ok {
		return nulError(p, fieldName(p))
	}
	return nil
}

// RejectNUL wraps the handler of a route whose URL a caller writes: a NUL
// in the path (which handlers read decoded) is refused with EINVALID
// naming "path" before the handler runs, and with checkQuery so is one in
// a query parameter's name or value, naming it. The ingest URL keeps its
// query as sent (escaped, and maybe signed by the provider), so it checks
// the path alone.
func RejectNUL(h func(http.ResponseWriter, *http.Request) error, checkQuery bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if strings.IndexByte(r.URL.Path, 0) >= 0 {
			return nulError("path", "the URL path")
		}
		if checkQuery {
			q := r.URL.Query()
			for _, k := range slices.Sorted(maps.Keys(q)) {
				if strings.IndexByte(k, 0) >= 0 || slices.ContainsFunc(q[k], func(s string) bool { return strings.IndexByte(s, 0) >= 0 }) {
					return nulError(k, "query parameter "+strconv.Quote(k))
				}
			}
		}
		return h(w, r)
	}
}
