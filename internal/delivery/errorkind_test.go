package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/httpclient"
)

// TestErrorKindOfRealFailures makes real attempts on loopback that fail in
// each way an endpoint fails, through the client deliveries use, and checks
// the kind the attempt records: `events attempts` shows it instead of 0.
func TestErrorKindOfRealFailures(t *testing.T) {
	t.Parallel()
	// A port nothing listens on: the connection is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "http://" + l.Addr().String() + "/hook"
	l.Close()

	// A server that accepts and hangs up without answering.
	hangUp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hangUp.Close()
	go func() {
		for {
			c, err := hangUp.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 1024)
			c.Read(buf) // the request's start, then close
			c.Close()
		}
	}()

	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})) // a certificate nobody trusts
	defer tlsSrv.Close()
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer busy.Close()

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	client := NewHTTPClient(true)
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		url     string
		timeout time.Duration
		want    string
	}{
		{"refused", context.Background(), refusedURL, 5 * time.Second, hookline.AttemptErrorRefused},
		{"timeout", context.Background(), hang.URL, 300 * time.Millisecond, hookline.AttemptErrorTimeout},
		{"tls", context.Background(), tlsSrv.URL, 5 * time.Second, hookline.AttemptErrorTLS},
		{"closed", context.Background(), "http://" + hangUp.Addr().String() + "/hook", 5 * time.Second, hookline.AttemptErrorClosed},
		{"canceled", canceled, busy.URL, 5 * time.Second, hookline.AttemptErrorCanceled},
		{"answered", context.Background(), busy.URL, 5 * time.Second, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := url.Parse(tc.url)
			resp := Do(tc.ctx, client, &httpclient.Request{URL: u, Body: []byte(`{}`), Deadline: time.Now().Add(tc.timeout)})
			if got := ErrorKind(resp.Err); got != tc.want {
				t.Fatalf("ErrorKind(%v) = %q, want %q (status %d)", resp.Err, got, tc.want, resp.Status)
			}
			if tc.want != "" && resp.Status != 0 {
				t.Fatalf("status %d with error %v", resp.Status, resp.Err)
			}
		})
	}
}

// TestErrorKindOfOtherErrors covers what a loopback test cannot make (a
// failed DNS lookup, an unreachable network) and errors from elsewhere.
func TestErrorKindOfOtherErrors(t *testing.T) {
	t.Parallel()
	dial := func(err error) error {
		return fmt.Errorf("sending request: %w", &net.OpError{Op: "dial", Net: "tcp", Err: err})
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{dial(&net.DNSError{Err: "no such host", Name: "hooks.example", IsNotFound: true}), hookline.AttemptErrorDNS},
		{dial(&net.DNSError{Err: "i/o timeout", Name: "hooks.example", IsTimeout: true}), hookline.AttemptErrorTimeout},
		{dial(os.NewSyscallError("connect", syscall.EHOSTUNREACH)), hookline.AttemptErrorUnreachable},
		{dial(os.NewSyscallError("connect", syscall.ECONNRESET)), hookline.AttemptErrorClosed},
		{dial(&net.AddrError{Err: "missing port", Addr: "192.0.2.1"}), hookline.AttemptErrorOther},
		{errors.New("endpoint secret: bad"), hookline.AttemptErrorOther},
		{describeTransportError(context.DeadlineExceeded), hookline.AttemptErrorTimeout},
		// A listen device's failure arrives as text with its kind.
		{RemoteError(hookline.AttemptErrorRefused, "dial tcp 127.0.0.1:8000: connect: connection refused"), hookline.AttemptErrorRefused},
		{RemoteError(hookline.AttemptErrorTimeout, "the local app did not answer within 14 s"), hookline.AttemptErrorTimeout},
		{RemoteError("", "connection refused"), hookline.AttemptErrorOther},              // an older device
		{RemoteError("out of cheese", "connection refused"), hookline.AttemptErrorOther}, // not a kind
	} {
		if got := ErrorKind(tc.err); got != tc.want {
			t.Errorf("ErrorKind(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if got := describeTransportError(context.DeadlineExceeded).Error(); got != "timed out waiting for the endpoint" {
		t.Errorf("a timeout reads %q", got)
	}
	if got := RemoteError(hookline.AttemptErrorRefused, "dial tcp: connection refused").Error(); got != "dial tcp: connection refused" {
		t.Errorf("a device's error reads %q", got)
	}
}
