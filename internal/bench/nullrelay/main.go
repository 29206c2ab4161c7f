// Command nullrelay is the baseline Hookline's benchmark measures itself
// against: a relay that answers each publish at once and forwards its body
// from memory through a pooled set of workers, with no storage and no
// signing. It is the ceiling for any relay on the machine it runs on.
//
//	nullrelay -addr 127.0.0.1:0 -target http://127.0.0.1:9000/hook
//
// It prints "listening on http://ADDR" once ready.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "nullrelay:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("nullrelay", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	target := fs.String("target", "", "URL every body is forwarded to")
	workers := fs.Int("workers", 64, "forwarding workers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *target == "" {
		return fmt.Errorf("-target is required")
	}
	queue := make(chan []byte, 65536)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *workers, MaxIdleConns: *workers}}
	for range *workers {
		go func() {
			for body := range queue {
				resp, err := client.Post(*target, "application/json", bytes.NewReader(body))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		queue <- body
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"evt_null","object":"event"}`)
	})}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
