package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestListenDevicesAreForgotten checks that `listen --forget` stops a
// running listen of that device, and that the retention purge forgets a
// device offline longer than --retention but never a connected one.
func TestListenDevicesAreForgotten(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev", "--retention", "2s")
	app := newVerifyingReceiver(t)
	stays := startListen(t, n.URL, "--name", "stays", "--forward-to", app.URL)
	gone := startListen(t, n.URL, "--name", "gone", "--forward-to", app.URL)
	gone.stop()
	devices := func() string {
		var l struct {
			Data []endpoint `json:"data"`
		}
		n.must(200, "GET", "/v1/endpoints?limit=100", nil, &l)
		var urls []string
		for _, e := range l.Data {
			urls = append(urls, e.URL)
		}
		return strings.Join(urls, " ")
	}
	waitFor(t, 15*time.Second, "the offline device to be forgotten", func() bool { return !strings.Contains(devices(), "listen://gone") })
	// The connected one has not been seen since it connected, longer ago
	// than the retention, and stays because it is connected.
	if !strings.Contains(devices(), "listen://stays") {
		t.Fatalf("the connected device was forgotten: %s", devices())
	}
	select {
	case <-stays.exited:
		t.Fatalf("the connected listen stopped:\n%s", stays.out)
	default:
	}

	out := runCLI(t, n.URL, "listen", "--forget", "--name", "stays")
	if !strings.Contains(out, "Forgot device stays") {
		t.Fatalf("listen --forget said %q", out)
	}
	select {
	case <-stays.exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("the forgotten device's listen is still running:\n%s", stays.out)
	}
	if !strings.Contains(stays.out.String(), "the device was forgotten (hookline listen --forget); this listen stops") {
		t.Errorf("the forgotten listen did not say why it stopped:\n%s", stays.out)
	}
	if strings.Contains(devices(), "listen://") {
		t.Errorf("devices left: %s", devices())
	}
}
