// Command receiver is the webhook receiver of the README's quick start: it
// verifies every request with github.com/hookline/hookline/webhook and the
// secret in WEBHOOK_SECRET, prints each verified event, and answers 200, so
// the first delivery visibly succeeds. It is an example to copy from, not
// part of Hookline.
//
//	WEBHOOK_SECRET=whsec_… go run ./examples/receiver [-addr 127.0.0.1:4000]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/hookline/hookline/webhook"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4000", "address to listen on")
	flag.Parse()
	v, err := webhook.NewVerifier(os.Getenv("WEBHOOK_SECRET"))
	if err != nil {
		log.Fatalf("WEBHOOK_SECRET: %v (the secret `hookline endpoints create` prints or was given)", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The middleware has verified the signature and timestamp; the
		// body is the event as published.
		var ev struct {
			ID   string          `json:"id"`
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, "not an event: "+err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Printf("verified %s %s at %s: %s\n", ev.Type, ev.ID, r.URL.Path, ev.Data)
		w.WriteHeader(http.StatusOK)
	})))
	fmt.Printf("receiving webhooks on http://%s/ (any path)\n", *addr)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
