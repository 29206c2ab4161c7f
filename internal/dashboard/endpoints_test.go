package dashboard

import (
	"context"
	"maps"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// TestBulkResendRangeInFormTerms checks that app.Recover's complaints
// about a bulk resend's range reach the form in its own terms (the from
// field, a start and an end), and that other errors pass unchanged.
func TestBulkResendRangeInFormTerms(t *testing.T) {
	t.Parallel()
	d, _ := newTestDashboard(t)
	ctx := context.Background()
	now := time.Now()
	for _, tc := range []struct {
		name        string
		from, to    time.Time
		code, param string
		says        string
	}{
		{"reversed", now.Add(-time.Hour), now.Add(-2 * time.Hour), hookline.EINVALID, "from", "the start must be before the end"},
		{"too far back", now.Add(-100 * 24 * time.Hour), now, hookline.EINVALID, "from", "the start may reach back at most 90 days"},
		{"no such endpoint", now.Add(-time.Hour), now, hookline.ENOTFOUND, "id", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.app.Recover(ctx, "ep_nosuch", tc.from, tc.to)
			err = rangeFormError(err)
			msg := hookline.ErrorMessage(err)
			if hookline.ErrorCode(err) != tc.code || hookline.ErrorParam(err) != tc.param || !strings.Contains(msg, tc.says) {
				t.Fatalf("%v, want %s naming %q saying %q", err, tc.code, tc.param, tc.says)
			}
			if strings.Contains(msg, "since") || strings.Contains(msg, "until") {
				t.Fatalf("%q speaks of the API's since and until, not the form's fields", msg)
			}
		})
	}
}

// TestReadEndpointForm checks how the endpoint form becomes the API's
// parameters: what a PATCH would send, no judging (that is the app's).
func TestReadEndpointForm(t *testing.T) {
	t.Parallel()
	cur := &hookline.Endpoint{ID: "ep_1", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		Headers: hookline.Headers{"Authorization": "Basic old", "X-Token": "t0k"}}
	for _, tc := range []struct {
		name        string
		cur         *hookline.Endpoint
		form        url.Values
		wantFilter  string
		wantRetry   string
		wantSigning string            // "" for not sent
		wantHeaders map[string]string // nil for not sent
		wantParam   string
		boxes       bool // the form has the filter and retry schedule boxes, empty
	}{
		{name: "empty boxes are null", form: url.Values{"filter": {" "}, "retry_schedule": {""}}, wantFilter: "null", wantRetry: "null"},
		{name: "absent boxes are not sent", form: url.Values{}},
		{name: "none is no retries", form: url.Values{"filter": {""}, "retry_schedule": {" None "}}, wantFilter: "null", wantRetry: "[]"},
		{name: "filter as typed, schedule split", form: url.Values{"filter": {` {"type": "a"} `}, "retry_schedule": {"0s, 1m,10m"}},
			wantFilter: `{"type": "a"}`, wantRetry: `["0s","1m","10m"]`},
		// An empty entry goes to the app, which refuses it naming
		// retry_schedule[2] as the API and the CLI do: not dropped.
		{name: "an empty entry is sent as typed", form: url.Values{"filter": {""}, "retry_schedule": {"0s, 1m,,10m"}},
			wantFilter: "null", wantRetry: `["0s","1m","","10m"]`},
		{name: "invalid filter goes to the app as typed", form: url.Values{"filter": {`{nope`}, "retry_schedule": {""}}, wantFilter: `{nope`, wantRetry: "null"},
		{name: "create sends signing", form: url.Values{"signing": {"ed25519"}}, wantFilter: "null", wantRetry: "null", boxes: true, wantSigning: "ed25519"},
		{name: "update sends signing only when it changes", cur: cur, form: url.Values{"signing": {"hmac"}}, wantFilter: "null", wantRetry: "null", boxes: true},
		{name: "update switches signing", cur: cur, form: url.Values{"signing": {"ed25519"}}, wantFilter: "null", wantRetry: "null", boxes: true, wantSigning: "ed25519"},
		{name: "create with headers", form: url.Values{"add_headers": {"Authorization: Basic abc\r\n\r\nX-A:b:c"}}, wantFilter: "null", wantRetry: "null", boxes: true,
			wantHeaders: map[string]string{"Authorization": "Basic abc", "X-A": "b:c"}},
		{name: "update keeps unsent values, removes and replaces", cur: cur,
			form:       url.Values{"remove_header": {"X-Token", "X-Gone"}, "add_headers": {"Authorization: Bearer new"}},
			wantFilter: "null", wantRetry: "null", boxes: true, wantHeaders: map[string]string{"Authorization": "Bearer new"}},
		{name: "update without header changes sends none", cur: cur, form: url.Values{"remove_header": {"X-Gone"}}, wantFilter: "null", wantRetry: "null", boxes: true},
		{name: "a line without a colon", form: url.Values{"add_headers": {"Authorization"}}, wantFilter: "null", wantRetry: "null", boxes: true, wantParam: "headers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.boxes {
				tc.form.Set("filter", "")
				tc.form.Set("retry_schedule", "")
			}
			r := httptest.NewRequest("POST", "/endpoints", strings.NewReader(tc.form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			f, p, err := readForm(r, tc.cur)
			if hookline.ErrorParam(err) != tc.wantParam || (err != nil) != (tc.wantParam != "") {
				t.Fatalf("error %v, want one naming %q", err, tc.wantParam)
			}
			if err != nil {
				return
			}
			if string(p.Filter) != tc.wantFilter || string(p.RetrySchedule) != tc.wantRetry {
				t.Errorf("filter %s, retry_schedule %s; want %s, %s", p.Filter, p.RetrySchedule, tc.wantFilter, tc.wantRetry)
			}
			sent := ""
			if p.Signing != nil {
				sent = *p.Signing
			}
			if sent != tc.wantSigning {
				t.Errorf("signing %q sent, want %q", sent, tc.wantSigning)
			}
			if (p.Headers == nil) != (tc.wantHeaders == nil) || p.Headers != nil && !maps.Equal(*p.Headers, tc.wantHeaders) {
				t.Errorf("headers %v, want %v", p.Headers, tc.wantHeaders)
			}
			if tc.cur != nil && !slices.Equal(f.HeaderNames, []string{"Authorization", "X-Token"}) {
				t.Errorf("the form lists headers %v, want the endpoint's names", f.HeaderNames)
			}
		})
	}
}

// Headers whose values did not open read as blanks; a form that changes
// the headers starts from none of them, so that no blank is saved as a
// value, and names only what was typed.
func TestReadHeadersSkipsUnopenedValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		sealErr *hookline.SealError
		want    map[string]string
	}{
		{"opened", nil, map[string]string{"Authorization": "Basic c2VjcmV0", "X-New": "z"}},
		{"secret unopened", &hookline.SealError{Secret: true}, map[string]string{"Authorization": "Basic c2VjcmV0", "X-New": "z"}},
		{"headers unopened", &hookline.SealError{Headers: true}, map[string]string{"X-New": "z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := &hookline.Endpoint{Headers: map[string]string{"Authorization": "Basic c2VjcmV0"}, SealErr: tc.sealErr}
			if tc.sealErr != nil && tc.sealErr.Headers {
				cur.Headers["Authorization"] = "" // as the store reads it
			}
			r := httptest.NewRequest("POST", "/endpoints/ep_1", nil)
			r.PostForm = url.Values{}
			got, changed, err := readHeaders(r, cur, "X-New: z")
			if err != nil || !changed || !maps.Equal(got, tc.want) {
				t.Fatalf("readHeaders = %v, %t, %v; want %v", got, changed, err, tc.want)
			}
		})
	}
}
