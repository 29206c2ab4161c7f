package dashboard

import (
	"context"
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
