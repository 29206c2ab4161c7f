package hookline

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
)

// DecodeStrict decodes raw, the JSON value of the request field param, into
// v, refusing fields v does not have. Its errors are EINVALID naming the
// field at fault below param (param.sub) in JSON's words, never Go's: the
// API decodes nested values after the body, and a type name like
// "struct { PerSecond *float64 … }" tells a caller nothing.
func DecodeStrict(raw []byte, param string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			// encoding/json names the unknown key, not where it is.
			if path, ok := unknownFieldPath(raw, reflect.TypeOf(v)); ok {
				field := joinField(param, path)
				return Invalid(field, "unknown field %q", field)
			}
		}
		return JSONError(err, param, v)
	}
	return nil
}

// unknownFieldPath finds in raw, decoded into a value of type t, the
// dotted path of the first key (in sorted order at each level) that no
// struct field takes.
func unknownFieldPath(raw []byte, t reflect.Type) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return "", false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return "", false
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f, ok := fieldByJSONName(t, k)
		if !ok {
			return k, true
		}
		if sub, ok := unknownFieldPath(m[k], f.Type); ok {
			return k + "." + sub, true
		}
	}
	return "", false
}

// fieldByJSONName finds the field of struct type t that the JSON key name
// decodes into, matching as encoding/json does (exactly, else ignoring
// case).
func fieldByJSONName(t reflect.Type, name string) (reflect.StructField, bool) {
	var folded reflect.StructField
	found := false
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			// An embedded struct's fields are the outer one's.
			if inner, ok := fieldByJSONName(f.Type, name); ok {
				return inner, true
			}
			continue
		}
		if tag == "-" || !f.IsExported() {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if tag == name {
			return f, true
		}
		if !found && strings.EqualFold(tag, name) {
			folded, found = f, true
		}
	}
	return folded, found
}

// JSONError turns an error from decoding the JSON value of param ("" for a
// whole request body) into v into an EINVALID error naming the field at
// fault.
func JSONError(err error, param string, v any) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return Invalid(param, "%s is not valid JSON at byte %d", nameOr(param, "the body"), syntax.Offset)
	case errors.As(err, &typ):
		field := joinField(param, typ.Field)
		// encoding/json names the field, not the map key or array index
		// below it: "headers must be a string" would be wrong of
		// {"headers": {"X-A": 1}}.
		switch containerKind(v, typ.Field, typ.Type) {
		case reflect.Map:
			return Invalid(field, "every value in %s must be %s, not %s", field, JSONKind(typ.Type.Kind().String()), article(typ.Value))
		case reflect.Slice, reflect.Array:
			return Invalid(field, "every entry of %s must be %s, not %s", field, JSONKind(typ.Type.Kind().String()), article(typ.Value))
		}
		return Invalid(field, "%s must be %s, not %s", nameOr(field, "the body"), JSONKind(typ.Type.Kind().String()), article(typ.Value))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return Invalid(param, "%s ends too soon", nameOr(param, "the body"))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := joinField(param, strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
		return Invalid(field, "unknown field %q", field)
	}
	return Invalid(param, "%s is not valid: %s", nameOr(param, "the body"), strings.TrimPrefix(err.Error(), "json: "))
}

// containerKind finds the Go type of the field at path (JSON names,
// dotted) in v, and returns its kind when it is a map or a slice whose
// elements are of type elem, the type a decoding error wanted: the error
// was then about a value inside it. Otherwise it returns reflect.Invalid.
func containerKind(v any, path string, elem reflect.Type) reflect.Kind {
	t := reflect.TypeOf(v)
	for _, name := range strings.Split(path, ".") {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			return reflect.Invalid
		}
		f, ok := fieldByJSONName(t, name)
		if !ok {
			return reflect.Invalid
		}
		t = f.Type
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || path == "" {
		return reflect.Invalid
	}
	switch k := t.Kind(); k {
	case reflect.Map, reflect.Slice, reflect.Array:
		if t.Elem() == elem {
			return k
		}
	}
	return reflect.Invalid
}

func joinField(param, field string) string {
	switch {
	case param == "":
		return field
	case field == "":
		return param
	}
	return param + "." + field
}

func nameOr(field, whole string) string {
	if field == "" {
		return whole
	}
	return field
}

// JSONKind names, as JSON does, the kind of value a Go kind decodes from.
func JSONKind(kind string) string {
	switch kind {
	case "slice", "array":
		return "an array"
	case "map", "struct", "interface":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "string":
		return "a string"
	}
	return "a " + kind
}

// article puts "a" or "an" before a JSON value kind as encoding/json names
// it in UnmarshalTypeError.Value ("number", "string", "array", "object",
// "bool", "number 2.5").
func article(value string) string {
	switch {
	case value == "bool":
		return "a boolean"
	case strings.HasPrefix(value, "number "):
		return value // "number 2.5": the value itself is clearer
	case value != "" && strings.ContainsRune("aeiou", rune(value[0])):
		return "an " + value
	}
	return "a " + value
}
