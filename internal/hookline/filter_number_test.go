package hookline

import (
	"encoding/json"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSameNumber(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		want bool
	}{
		// Past 2^53, where float64 rounds 9007199254740993 to …992.
		{"9007199254740993", "9007199254740992.0", false},
		{"9007199254740993", "9.007199254740993e15", true},
		{"9007199254740992", "9.007199254740993e15", false},
		{"9007199254740993", "9007199254740993.000", true},
		{"12345678901234567890", "12345678901234567891", false},
		// Past float64's range, where ParseFloat fails.
		{"1e400", "1e400", true},
		{"1e400", "10e399", true},
		{"1e400", "1e401", false},
		{"1e-400", "0.1e-399", true},
		{"1e-400", "0", false},
		{"1e999999999", "1e999999999", true},
		{"1e999999999", "1e999999998", false},
		{"10e999999999", "1E+1000000000", true},
		{"1e99999999999999999999999", "1e99999999999999999999999", true},
		{"1e99999999999999999999999", "10e99999999999999999999998", true},
		{"1e99999999999999999999999", "1e99999999999999999999998", false},
		{"1e-99999999999999999999999", "1e99999999999999999999999", false},
		{"1e99999999999999999999999", "1e999999", false},
		{"0e99999999999999999999999", "0", true},
		// One number, many forms.
		{"1e3", "1000", true},
		{"1000", "1000.0", true},
		{"1000.0", "10e2", true},
		{"10e2", "1e+3", true},
		{"100000e-2", "1000", true},
		{"0.001", "1e-3", true},
		{"0.0010", "1E-3", true},
		{"1.5", "15e-1", true},
		{"1.5", "1.50001", false},
		{"0.1", "0.01", false},
		{"1", "10", false},
		{"100", "10", false},
		// Zero has no sign.
		{"-0", "0", true},
		{"-0.0e5", "0e-3", true},
		{"0", "0.000", true},
		// Negative numbers.
		{"-5", "-5.0", true},
		{"-5", "5", false},
		{"-12345678901234567890", "-1.2345678901234567890e19", true},
		{"-1e400", "1e400", false},
		// Leading zeros are no JSON, but a query's text may have them.
		{"00012", "12", true},
		{"-007.50", "-7.5", true},
		// Not numbers: equal to nothing, themselves included.
		{"", "", false},
		{"abc", "abc", false},
		{"0x10", "16", false},
		{"Inf", "Inf", false},
		{"NaN", "NaN", false},
		{"1_000", "1000", false},
		{".5", "0.5", false},
		{"5.", "5", false},
		{"+5", "5", false},
		{"1e", "1", false},
		{"1e+", "1", false},
		{"-", "-", false},
		{"1.2.3", "1.2.3", false},
		{"1e5e5", "1e5e5", false},
		{"1e99999999999999999999x", "1e99999999999999999999x", false},
	} {
		if got := sameNumber(c.a, c.b); got != c.want {
			t.Errorf("sameNumber(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := sameNumber(c.b, c.a); got != c.want {
			t.Errorf("sameNumber(%q, %q) = %v, want %v", c.b, c.a, got, c.want)
		}
	}
}

// TestFilterNumberForms runs the exact comparison through a whole filter:
// equals and in, against event data and against a header's text.
func TestFilterNumberForms(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		filter, data string
		want         bool
	}{
		{`{"data.n": 9007199254740992.0}`, `{"n": 9007199254740993}`, false},
		{`{"data.n": 9.007199254740993e15}`, `{"n": 9007199254740993}`, true},
		{`{"data.n": {"in": [1, 9007199254740992]}}`, `{"n": 9007199254740993}`, false},
		{`{"data.n": 1e400}`, `{"n": 1e400}`, true},
		{`{"data.n": {"equals": 1e400}}`, `{"n": 10e399}`, true},
		{`{"data.n": 1e999999999}`, `{"n": 1e999999998}`, false},
		{`{"data.n": 1000}`, `{"n": 1e3}`, true},
		{`{"data.n": {"in": [10e2]}}`, `{"n": 1000.0}`, true},
		{`{"data.n": 0}`, `{"n": -0}`, true},
		{`{"data.n": -2.5}`, `{"n": 2.5}`, false},
		{`{"data.n": "1000"}`, `{"n": 1000}`, false},
	} {
		f, err := ParseFilter([]byte(c.filter), EventFilterFields)
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewEventPayload("evt_n", "a.b", time.Unix(1, 0), "", []byte(c.data))
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(&EventDocument{Event: &Event{Type: "a.b", Payload: p}}); got != c.want {
			t.Errorf("filter %s on %s: Match = %v, want %v", c.filter, c.data, got, c.want)
		}
	}
	// A header's or query's text meets a number the same way.
	for _, c := range []struct {
		text, want string
		match      bool
	}{
		{"1000.0", "1e3", true},
		{"0012", "12", true},
		{"9007199254740993", "9007199254740992", false},
		{"0x10", "16", false},
		{"twelve", "12", false},
	} {
		if got := equal(c.text, json.Number(c.want)); got != c.match {
			t.Errorf("text %q equals number %s: %v, want %v", c.text, c.want, got, c.match)
		}
	}
}

// BenchmarkSameNumber compares sameNumber with the float64 comparison it
// replaced (two ParseFloat), the baseline, on an amount and an id past 2^53.
func BenchmarkSameNumber(b *testing.B) {
	for _, pair := range [][2]string{{"1200", "1.2e3"}, {"12345678901234567890", "1.2345678901234567890e19"}} {
		b.Run("float64/"+pair[0], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x, _ := strconv.ParseFloat(pair[0], 64)
				y, _ := strconv.ParseFloat(pair[1], 64)
				_ = x == y
			}
		})
		b.Run("exact/"+pair[0], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sameNumber(pair[0], pair[1])
			}
		})
	}
}

// sameNumberByRat is sameNumber the slow, obvious way, for the fuzz
// target: only for literals whose exponent is small enough that big.Rat
// builds the number cheaply.
func sameNumberByRat(a, b string) (same, ok bool) {
	x, okA := smallRat(a)
	y, okB := smallRat(b)
	if !okA || !okB {
		return false, false
	}
	return x.Cmp(y) == 0, true
}

func smallRat(s string) (*big.Rat, bool) {
	if len(s) > 200 || !numberSyntax.MatchString(s) {
		return nil, false
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e < -1000 || e > 1000 {
			return nil, false
		}
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// numberSyntax is JSON's number grammar with leading zeros allowed, as
// parseDecimal reads it, written independently of it.
var numberSyntax = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)
