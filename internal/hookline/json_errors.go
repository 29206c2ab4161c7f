package hookline

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
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
		return JSONError(err, param)
	}
	return nil
}

// JSONError turns an error from decoding the JSON value of param ("" for a
// whole request body) into an EINVALID error naming the field at fault.
func JSONError(err error, param string) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return Invalid(param, "%s is not valid JSON at byte %d", nameOr(param, "the body"), syntax.Offset)
	case errors.As(err, &typ):
		field := joinField(param, typ.Field)
		return Invalid(field, "%s must be %s, not %s", nameOr(field, "the body"), JSONKind(typ.Type.Kind().String()), article(typ.Value))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return Invalid(param, "%s ends too soon", nameOr(param, "the body"))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := joinField(param, strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
		return Invalid(field, "unknown field %q", field)
	}
	return Invalid(param, "%s is not valid: %s", nameOr(param, "the body"), strings.TrimPrefix(err.Error(), "json: "))
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
