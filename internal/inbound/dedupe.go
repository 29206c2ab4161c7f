package inbound

import (
	"encoding/json"
	"net/http"

	"github.com/hookline/hookline/internal/hookline"
)

// DedupeKey returns the provider's id for this delivery, which stays the
// same when the provider retries it: Stripe's event id (in the body),
// X-GitHub-Delivery, X-Shopify-Webhook-Id, or webhook-id (svix-id). It is
// "" when the provider sends none.
func DedupeKey(sourceType string, h http.Header, body Body) string {
	switch sourceType {
	case hookline.SourceStripe:
		var ev struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(body.Bytes(), &ev) == nil { // joined for Stripe's alone
			return ev.ID
		}
		return ""
	case hookline.SourceGitHub:
		return h.Get("X-GitHub-Delivery")
	case hookline.SourceShopify:
		if id := h.Get("X-Shopify-Webhook-Id"); id != "" {
			return id
		}
		return h.Get("Shopify-Webhook-Id")
	}
	// Standard Webhooks, and any other source whose sender uses its headers.
	if id := h.Get("Webhook-Id"); id != "" {
		return id
	}
	return h.Get("Svix-Id")
}
