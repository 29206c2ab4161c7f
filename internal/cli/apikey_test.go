package cli

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/server"
)

func TestSameServer(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{"http://127.0.0.1:8080", "http://localhost:8080/", true},
		{"http://[::1]:8080", "http://localhost:8080", true},
		{"http://127.0.0.1:8080", "http://0.0.0.0:8080", true},
		{"http://127.0.0.1:80", "http://localhost", true},
		{"https://hooks.example.com", "https://hooks.example.com:443", true},
		{"http://127.0.0.1:8080", "http://127.0.0.1:9090", false},
		{"http://127.0.0.1:8080", "https://127.0.0.1:8080", false},
		{"http://127.0.0.1:8080", "http://hooks.example.com:8080", false},
		{"http://127.0.0.1:8080", "::not a url", false},
	} {
		if got := sameServer(tt.a, tt.b); got != tt.want {
			t.Errorf("sameServer(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestFindAPIKeyTakesTheNewestServerAtTheURL: both data directories once
// served 127.0.0.1:8080 (the quick start's serve, then listen's embedded
// server); the one that started last is the one answering there.
func TestFindAPIKeyTakesTheNewestServerAtTheURL(t *testing.T) {
	config := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config) // where the embedded server keeps its data
	repo := filepath.Join(t.TempDir(), "hookline-data")
	embedded := filepath.Join(config, "hookline")
	old, recent := time.Now().Add(-time.Hour), time.Now()
	for _, d := range []struct {
		dir, key string
		at       time.Time
	}{{repo, "hl_sk_repo", old}, {embedded, "hl_sk_embedded", recent}} {
		if err := os.MkdirAll(d.dir, 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(d.dir, server.APIKeyFile), d.key+"\n")
		writeFile(t, filepath.Join(d.dir, server.URLFile), "http://127.0.0.1:8080\n")
		if err := os.Chtimes(filepath.Join(d.dir, server.URLFile), d.at, d.at); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"HOOKLINE_DATA": repo}
	getenv := func(k string) string { return env[k] }
	if ks := findAPIKey(getenv, "http://localhost:8080", embedded); ks.key != "hl_sk_embedded" {
		t.Errorf("key %q from %s, want the embedded server's; looked: %v", ks.key, ks.from, ks.looked)
	}
	if err := os.Chtimes(filepath.Join(repo, server.URLFile), recent.Add(time.Minute), recent.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ks := findAPIKey(getenv, "http://127.0.0.1:8080", embedded); ks.key != "hl_sk_repo" {
		t.Errorf("key %q from %s, want the repository's, started last; looked: %v", ks.key, ks.from, ks.looked)
	}
	if ks := findAPIKey(getenv, "http://127.0.0.1:9999", embedded); ks.key != "" {
		t.Errorf("a server nobody recorded got key %q from %s", ks.key, ks.from)
	}
	env["HOOKLINE_API_KEY"] = "hl_sk_env"
	if ks := findAPIKey(getenv, "http://127.0.0.1:8080", embedded); ks.key != "hl_sk_env" || ks.from != "HOOKLINE_API_KEY" {
		t.Errorf("HOOKLINE_API_KEY set: key %q from %s", ks.key, ks.from)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
