package hookline

import (
	"strings"
	"testing"
)

// Decoding errors name the field at fault below the param and say what
// it takes in JSON's words, never Go's.
func TestDecodeStrictNamesTheField(t *testing.T) {
	t.Parallel()
	type inner struct {
		N int `json:"n"`
	}
	type Embedded struct {
		Extra string `json:"extra"`
	}
	type params struct {
		Embedded
		Rate    *float64          `json:"rate"`
		Inner   inner             `json:"inner"`
		Tags    []string          `json:"tags"`
		Labels  map[string]string `json:"labels"`
		Enabled bool              `json:"enabled"`
	}
	for _, tt := range []struct {
		raw, param, msg string
	}{
		{`5`, "opts", "opts must be an object, not a number"},
		{`{"rate": "x"}`, "opts.rate", "opts.rate must be a number, not a string"},
		{`{"inner": {"n": 2.5}}`, "opts.inner.n", "opts.inner.n must be a whole number, not number 2.5"},
		{`{"inner": {"m": 1}}`, "opts.inner.m", `unknown field "opts.inner.m"`},
		{`{"extra": "x", "inner": {"n": 1}, "zzz": 1}`, "opts.zzz", `unknown field "opts.zzz"`},
		{`{"cooldown": 5}`, "opts.cooldown", `unknown field "opts.cooldown"`},
		{`{"tags": [1]}`, "opts.tags", "every entry of opts.tags must be a string, not a number"},
		{`{"tags": "a"}`, "opts.tags", "opts.tags must be an array, not a string"},
		{`{"labels": {"a": true}}`, "opts.labels", "every value in opts.labels must be a string, not a boolean"},
		{`{"enabled": "yes"}`, "opts.enabled", "opts.enabled must be a boolean, not a string"},
		{`{"rate": 1`, "opts", "opts ends too soon"},
		{`{"rate" 1}`, "opts", "opts is not valid JSON at byte"},
	} {
		var p params
		err := DecodeStrict([]byte(tt.raw), "opts", &p)
		msg := ErrorMessage(err)
		if ErrorCode(err) != EINVALID || ErrorParam(err) != tt.param || !strings.HasPrefix(msg, tt.msg) {
			t.Errorf("%s: %v (param %q), want param %q and a message starting %q", tt.raw, err, ErrorParam(err), tt.param, tt.msg)
		}
		for _, leak := range []string{"Go value", "interface {}", "struct {", "json:", "float64"} {
			if strings.Contains(msg, leak) {
				t.Errorf("%s: message %q shows Go's %q", tt.raw, msg, leak)
			}
		}
	}
}
