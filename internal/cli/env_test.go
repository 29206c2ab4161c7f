package cli

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestEnvironmentLookups: the device name and the embedded server's data
// directory come from the injected environment, not the machine's.
func TestEnvironmentLookups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		host, want string
		err        error
	}{
		{"dev-box.example.com", "dev-box", nil},
		{"Ana's MacBook", "Ana-s-MacBook", nil},
		{"", "laptop", nil},
		{"x", "laptop", errors.New("no host name")},
	} {
		a := &app{env: Env{Getenv: func(string) string { return "" },
			Hostname:      func() (string, error) { return tc.host, tc.err },
			UserConfigDir: func() (string, error) { return dir, nil }}}
		if tc.err != nil {
			a.env.Hostname = func() (string, error) { return "", tc.err }
		}
		if got := a.deviceName(); got != tc.want {
			t.Errorf("host %q: device %q, want %q", tc.host, got, tc.want)
		}
	}
	a := &app{env: Env{UserConfigDir: func() (string, error) { return dir, nil }}}
	if got := a.embeddedDataDir(); got != filepath.Join(dir, "hookline") {
		t.Errorf("embedded data in %s, want under %s", got, dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "hookline"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hookline", "api_key"), []byte("hl_sk_from_the_env_dir\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := a.embeddedAPIKey(); got != "hl_sk_from_the_env_dir" {
		t.Errorf("embedded key %q, want the one under the injected config dir", got)
	}
}
