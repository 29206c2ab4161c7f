package dashboard

import (
	"context"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
)

// TestSourceLimitsFormToStore sends the source forms' limit boxes through
// readSource (create) and readSourceLimits (edit) to app.CreateSource and
// app.UpdateSource on a real SQLite store, and reads back what is stored:
// the source's own limits, none where every box is empty.
func TestSourceLimitsFormToStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, st := newSQLiteApp(t)
	post := func(form url.Values, cur *hookline.Source) (*hookline.Source, error) {
		r := httptest.NewRequest("POST", "/sources", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cur == nil {
			_, p, err := readSource(r)
			if err != nil {
				return nil, err
			}
			return a.CreateSource(ctx, p, app.ByDashboard)
		}
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		var f sourceForm
		var p app.SourceParams
		readSourceLimits(r, &f, &p)
		return a.UpdateSource(ctx, cur.ID, p)
	}
	boxes := func(ips, perMinute, perDay string) url.Values {
		return url.Values{"allowed_ips": {ips}, "requests_per_minute": {perMinute}, "bytes_per_day": {perDay}}
	}
	read := func(id string) hookline.SourceLimits {
		s, err := st.Source(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return s.Limits
	}
	same := func(a, b hookline.SourceLimits) bool {
		return slices.Equal(a.AllowedIPs, b.AllowedIPs) && a.RequestsPerMinute == b.RequestsPerMinute && a.BytesPerDay == b.BytesPerDay
	}

	form := boxes(" 192.0.2.0/24\r\n198.51.100.7, 2001:db8::/32 ", " 60 ", "104857600")
	form.Set("name", "shop")
	form.Set("type", hookline.SourceNone)
	src, err := post(form, nil)
	if err != nil {
		t.Fatalf("creating with every limit: %v", err)
	}
	all := hookline.SourceLimits{AllowedIPs: []string{"192.0.2.0/24", "198.51.100.7", "2001:db8::/32"}, RequestsPerMinute: 60, BytesPerDay: 104857600}
	for _, step := range []struct {
		name string
		form url.Values
		want hookline.SourceLimits
	}{
		{"created with every limit", nil, all},
		{"a form without the boxes keeps them", url.Values{}, all},
		{"the same boxes again keep them", boxes("192.0.2.0/24\n198.51.100.7\n2001:db8::/32", "60", "104857600"), all},
		{"addresses alone", boxes("203.0.113.9", "", ""), hookline.SourceLimits{AllowedIPs: []string{"203.0.113.9"}}},
		{"a rate alone", boxes("", "5", ""), hookline.SourceLimits{RequestsPerMinute: 5}},
		{"a quota alone", boxes("", "", "1"), hookline.SourceLimits{BytesPerDay: 1}},
		{"every box empty removes them", boxes(" \n ", " ", ""), hookline.SourceLimits{}},
	} {
		if step.form != nil {
			if src, err = post(step.form, src); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
		}
		if got := read(src.ID); !same(got, step.want) {
			t.Fatalf("%s: stored %+v, want %+v", step.name, got, step.want)
		}
	}

	// What the app refuses it refuses as it refuses the API's, naming the
	// API's field; nothing is stored.
	if src, err = post(boxes("192.0.2.0/24", "60", "1000"), src); err != nil {
		t.Fatal(err)
	}
	before := read(src.ID)
	for _, tc := range []struct {
		form  url.Values
		param string
	}{
		{boxes("nope", "", ""), "limits.allowed_ips"},
		{boxes("192.0.2.0/24, 300.1.1.1", "", ""), "limits.allowed_ips"},
		{boxes("", "-1", ""), "limits.requests_per_minute"},
		{boxes("", "sixty", ""), "limits.requests_per_minute"},
		{boxes("", "1.5", ""), "limits.requests_per_minute"},
		{boxes("", "", "-5"), "limits.bytes_per_day"},
		{boxes("", "", "1GiB"), "limits.bytes_per_day"},
	} {
		_, err := post(tc.form, src)
		if hookline.ErrorCode(err) != hookline.EINVALID || hookline.ErrorParam(err) != tc.param {
			t.Errorf("%v: %v (param %q), want %s naming %s", tc.form, err, hookline.ErrorParam(err), hookline.EINVALID, tc.param)
		}
	}
	if got := read(src.ID); !same(got, before) {
		t.Fatalf("refused forms changed the limits to %+v, was %+v", got, before)
	}
	// A refused new source is not stored either.
	form = boxes("", "-1", "")
	form.Set("name", "refused")
	form.Set("type", hookline.SourceNone)
	if _, err := post(form, nil); hookline.ErrorParam(err) != "limits.requests_per_minute" {
		t.Fatalf("creating with a negative rate: %v", err)
	}
	if _, err := st.SourceByName(ctx, "refused"); hookline.ErrorCode(err) != hookline.ENOTFOUND {
		t.Fatalf("the refused source was stored: %v", err)
	}
}
