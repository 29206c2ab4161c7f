package hookline

import (
	"fmt"
	"log/slog"
	"net/textproto"
	"sort"
	"strings"
	"time"
)

// Accepts reports whether an endpoint's subscription takes the event in
// doc: its tenant (an endpoint without one takes every tenant's), its
// EnabledEvents and its Filter. Both stores fan out with it, so the rule
// lives once.
func (e *Endpoint) Accepts(doc *EventDocument) bool {
	ev := doc.Event
	if e.Tenant != "" && e.Tenant != ev.Tenant {
		return false
	}
	return MatchEvent(e.EnabledEvents, ev.Type) && e.Filter.Match(doc)
}

// Headers are the static headers an endpoint's deliveries carry beside the
// signature (a receiver's Authorization, an API token). Their values are
// secrets: logged, they show names only.
type Headers map[string]string

// LogValue shows the header names and hides the values.
func (h Headers) LogValue() slog.Value {
	names := make([]string, 0, len(h))
	for n := range h {
		names = append(names, n)
	}
	sort.Strings(names)
	attrs := make([]slog.Attr, len(names))
	for i, n := range names {
		attrs[i] = slog.String(n, "[redacted]")
	}
	return slog.GroupValue(attrs...)
}

// Limits on an endpoint's static headers.
const (
	MaxHeaders          = 20
	MaxHeaderNameLen    = 256
	MaxHeaderValueLen   = 4096
	MaxRetryScheduleLen = 30
	MaxRetryDelay       = 7 * 24 * time.Hour
)

// Why a static header name is refused: a receiver must be able to trust
// the signature it verifies, and the HTTP transport must frame the request.
const (
	whySignature = "it carries the delivery's signature (every webhook-* and svix-* header, and Stripe-Signature, are reserved)"
	whyHookline  = "every delivery carries Hookline's own"
	whyTransport = "the HTTP transport owns it"
)

// reservedHeaders are the exact names, lower case, a static header may not
// take, with why. Prefixes are in reservedPrefixes.
var reservedHeaders = map[string]string{
	"stripe-signature": whySignature,
	"content-type":     whyHookline, "user-agent": whyHookline,
	"host": whyTransport, "content-length": whyTransport, "transfer-encoding": whyTransport,
	"connection": whyTransport, "expect": whyTransport, "accept-encoding": whyTransport, "te": whyTransport,
	"upgrade": whyTransport, "trailer": whyTransport, "keep-alive": whyTransport,
}

// reservedPrefixes are the name prefixes, lower case, a static header may
// not take: every Standard Webhooks header, present or future, Svix's, and
// the hop-by-hop Proxy-* headers.
var reservedPrefixes = []struct{ prefix, why string }{
	{"webhook-", whySignature}, {"svix-", whySignature}, {"proxy-", whyTransport},
}

// reservedHeader says why name may not be a static header, or "".
func reservedHeader(name string) string {
	lower := strings.ToLower(name)
	if why := reservedHeaders[lower]; why != "" {
		return why
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(lower, p.prefix) {
			return p.why
		}
	}
	return ""
}

// EachSendableHeader calls set with each of an endpoint's static headers
// a delivery carries, in name order. A header saved before a rule of
// CheckHeaders refused its name is skipped, so rules added later hold for
// stored endpoints too; of two saved names that differ only in case, both
// are passed, in the same order every time, so the one set last wins
// every time.
func EachSendableHeader(h map[string]string, set func(name, value string)) {
	if len(h) == 0 {
		return
	}
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if reservedHeader(name) == "" {
			set(name, h[name])
		}
	}
}

// CheckHeaders validates an endpoint's static headers. Errors are EINVALID
// naming headers[<name>]. Names are checked in sorted order, so the same
// headers always name the same error. Two names that differ only in case
// are one HTTP header, and a delivery could carry only one of the values:
// they are refused, naming the canonical form (headers[X-A]).
func CheckHeaders(h map[string]string) error {
	if len(h) > MaxHeaders {
		return Invalid("headers", "headers has more than %d entries", MaxHeaders)
	}
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	seen := make(map[string]string, len(h))
	for _, name := range names {
		value := h[name]
		param := "headers[" + name + "]"
		if name == "" || len(name) > MaxHeaderNameLen || !isToken(name) {
			return Invalid(param, "header name %q is not a valid HTTP header name", name)
		}
		canonical := textproto.CanonicalMIMEHeaderKey(name)
		if other, ok := seen[canonical]; ok {
			return Invalid("headers["+canonical+"]", "headers %s and %s differ only in case, and HTTP header names ignore case: keep one", other, name)
		}
		seen[canonical] = name
		if why := reservedHeader(name); why != "" {
			return Invalid(param, "header %s is set by Hookline and cannot be overridden: %s", name, why)
		}
		if len(value) > MaxHeaderValueLen {
			return Invalid(param, "header value is longer than %d bytes", MaxHeaderValueLen)
		}
		for i := 0; i < len(value); i++ {
			if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
				return Invalid(param, "header value contains a control character")
			}
		}
	}
	return nil
}

// isToken reports whether s is an RFC 9110 token, as header names are.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// ParseRetryDelay parses one entry of a retry schedule: a Go duration from
// 0s (retry at once) to MaxRetryDelay.
func ParseRetryDelay(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a duration like 0s, 30s, 5m or 2h", s)
	case d < 0:
		return 0, fmt.Errorf("%q is negative", s)
	case d > MaxRetryDelay:
		return 0, fmt.Errorf("%q is longer than %s", s, MaxRetryDelay)
	}
	return d, nil
}

// ParseRetrySchedule parses an endpoint's retry_schedule: the delay before
// each retry. An empty list means no retries. Errors are EINVALID naming
// retry_schedule[i].
func ParseRetrySchedule(entries []string) ([]time.Duration, error) {
	if len(entries) > MaxRetryScheduleLen {
		return nil, Invalid("retry_schedule", "retry_schedule has more than %d entries", MaxRetryScheduleLen)
	}
	out := make([]time.Duration, len(entries))
	for i, s := range entries {
		if strings.TrimSpace(s) == "" {
			return nil, Invalid(fmt.Sprintf("retry_schedule[%d]", i), "retry_schedule entry %d is empty; each is a duration like 0s, 30s, 5m or 2h", i)
		}
		d, err := ParseRetryDelay(s)
		if err != nil {
			return nil, Invalid(fmt.Sprintf("retry_schedule[%d]", i), "retry_schedule entry %v", err)
		}
		out[i] = d
	}
	return out, nil
}

// NoRetries is how a flag writes an empty retry schedule: the first
// failure is final.
const NoRetries = "none"

// SplitRetrySchedule splits a flag's comma-separated retry schedule
// ("0s,30s,5m") into its trimmed entries, NoRetries into none. An empty
// entry ("5s,,10s", "5s,") is refused rather than dropped, as the API
// refuses one in retry_schedule: a typo must not shorten the schedule.
func SplitRetrySchedule(s string) ([]string, error) {
	entries := RetryScheduleEntries(s)
	for i, e := range entries {
		if e == "" {
			return nil, fmt.Errorf("entry %d of %d is empty; separate the delays with single commas, e.g. 5s,5m,30m, or say %s for no retries", i+1, len(entries), NoRetries)
		}
	}
	return entries, nil
}

// RetryScheduleEntries splits a comma-separated retry schedule into its
// trimmed entries, NoRetries into none, keeping an empty entry for
// ParseRetrySchedule to refuse by its index, as a form shows it beside
// the box (SplitRetrySchedule refuses it at once, for a flag).
func RetryScheduleEntries(s string) []string {
	if strings.EqualFold(strings.TrimSpace(s), NoRetries) {
		return []string{}
	}
	entries := strings.Split(s, ",")
	for i, e := range entries {
		entries[i] = strings.TrimSpace(e)
	}
	return entries
}

// FormatRetrySchedule is the inverse of ParseRetrySchedule.
func FormatRetrySchedule(s []time.Duration) []string {
	out := make([]string, len(s))
	for i, d := range s {
		out[i] = d.String()
	}
	return out
}
