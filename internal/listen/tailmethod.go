package listen

import (
	"net/http"

	"github.com/hookline/hookline/internal/hookline"
)

// AttemptMethod is the HTTP method an attempt of t was made with: the
// method a captured inbound request arrived with when t forwards one (as
// delivery.ForwardSender sends it, POST when none was recorded), else POST,
// the method of every event delivery.
func AttemptMethod(t *hookline.Task) string {
	if t != nil && t.Request != nil && t.Request.Method != "" {
		return t.Request.Method
	}
	return http.MethodPost
}
