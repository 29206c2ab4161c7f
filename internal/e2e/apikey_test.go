package e2e

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

var apiKeyRE = regexp.MustCompile(`Your API key \(shown once[^)]*\): (hl_sk_\S+)`)

// serveWithoutKey runs hookline serve with HOOKLINE_API_KEY unset, as a
// newcomer does. It returns the output up to the listening line (or all
// of it, when the server exits) and the server's URL, "" when it exited;
// a server that started is stopped when the test ends.
func serveWithoutKey(t *testing.T, args ...string) (out, url string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKLINE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // one stream, so an error is in out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var b strings.Builder
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return b.String(), ""
			}
			b.WriteString(line + "\n")
			if m := listenRE.FindStringSubmatch(line); m != nil {
				return b.String(), m[1]
			}
		case <-timeout:
			t.Fatalf("hookline serve %s neither listened nor exited:\n%s", args, b.String())
		}
	}
}

// The API key "printed once" is printed by the first start that listens:
// a start that fails first (its port taken) neither prints nor keeps one,
// so the key the next start prints is the one that works. SQLite and
// PostgreSQL (which keeps only the key's hash).
func TestAPIKeyPrintedOnceStartSucceeds(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { taken.Close() }) // not defer: the subtests run after this function returns
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			args := withDB(t, db, []string{"--data", t.TempDir(), "--dev"})
			out, url := serveWithoutKey(t, append(args, "--addr", taken.Addr().String())...)
			if url != "" || !strings.Contains(out, "--addr "+taken.Addr().String()) {
				t.Fatalf("a start on a taken port: %s\nwant an error naming --addr", out)
			}
			if apiKeyRE.MatchString(out) {
				t.Fatalf("a start that failed printed the API key:\n%s", out)
			}

			out, url = serveWithoutKey(t, append(args, "--addr", "127.0.0.1:0")...)
			m := apiKeyRE.FindStringSubmatch(out)
			if url == "" || m == nil {
				t.Fatalf("the first start that listens: %s\nwant the API key printed", out)
			}
			req, _ := http.NewRequest("GET", url+"/v1/endpoints", nil)
			req.Header.Set("Authorization", "Bearer "+m[1])
			waitFor(t, 10*time.Second, "the printed key to work", func() bool {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return false
				}
				resp.Body.Close()
				if resp.StatusCode == 401 {
					t.Fatalf("the printed API key is refused")
				}
				return resp.StatusCode == 200
			})
		})
	}
}
