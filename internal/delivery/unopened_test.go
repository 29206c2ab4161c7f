package delivery

import (
	"errors"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/hookline"
)

// A task whose endpoint's sealed values did not open as it was claimed
// (Endpoint.SealErr) gets no sender, whatever its transport: the attempt
// fails with an error saying what to replace, of kind "error", and nothing
// goes out unsigned or without its headers.
func TestNoSenderForAnEndpointWhoseSecretsDidNotOpen(t *testing.T) {
	t.Parallel()
	cause := errors.New("opening the secret of ep_1: a secret sealed under key 0badc0de does not open here")
	e := &Engine{cfg: Config{Transports: map[string]Sender{"https": &HTTPSender{}}}}
	for _, c := range []struct {
		name    string
		sealErr *hookline.SealError
		request *hookline.InboundRequest
		want    string
	}{
		{"secret", &hookline.SealError{Secret: true, Err: cause}, nil, "rotate its secret"},
		{"previous secret", &hookline.SealError{PreviousSecret: true, Err: cause}, nil, "rotate its secret"},
		{"headers", &hookline.SealError{Headers: true, Err: cause}, nil, "set its headers anew"},
		{"secret and headers", &hookline.SealError{Secret: true, Headers: true, Err: cause}, nil, "rotate its secret (POST /v1/endpoints/{id}/secret/rotate) and set its headers anew"},
		{"forwarded request", &hookline.SealError{Headers: true, Err: cause}, &hookline.InboundRequest{ID: "req_1"}, "set its headers anew"},
	} {
		t.Run(c.name, func(t *testing.T) {
			task := &hookline.Task{Endpoint: &hookline.Endpoint{ID: "ep_1", URL: "https://127.0.0.1/hook", SealErr: c.sealErr}, Request: c.request}
			s, err := e.senderFor(task)
			if s != nil || err == nil {
				t.Fatalf("senderFor gave %v, %v; want no sender", s, err)
			}
			if !strings.Contains(err.Error(), "the endpoint's secret cannot be opened") || !strings.Contains(err.Error(), c.want) || !errors.Is(err, cause) {
				t.Fatalf("error %q; want it to say the secret cannot be opened and %q, wrapping the cause", err, c.want)
			}
			if k := ErrorKind(err); k != hookline.AttemptErrorOther {
				t.Fatalf("error kind %q, want %q", k, hookline.AttemptErrorOther)
			}
		})
	}
	// Without SealErr the same task has its sender: the refusal above is
	// not the transport failing.
	if s, err := e.senderFor(&hookline.Task{Endpoint: &hookline.Endpoint{ID: "ep_1", URL: "https://127.0.0.1/hook"}}); s == nil || err != nil {
		t.Fatalf("senderFor an endpoint that opened: %v, %v", s, err)
	}
}
