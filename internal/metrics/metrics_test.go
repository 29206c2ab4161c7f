package metrics

import "testing"

func TestStatusClass(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]string{0: "none", 200: "2xx", 204: "2xx", 302: "3xx", 410: "4xx", 503: "5xx", 99: "other", 600: "other"} {
		if got := StatusClass(status); got != want {
			t.Errorf("StatusClass(%d) = %q, want %q", status, got, want)
		}
	}
}
