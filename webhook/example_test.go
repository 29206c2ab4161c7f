package webhook_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/webhook"
)

// The Standard Webhooks test vector: a fixed secret, id, time and body give
// a fixed signature.
func ExampleNewSigner() {
	signer, err := webhook.NewSigner("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		log.Fatal(err)
	}
	sig := signer.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	fmt.Println(sig)
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

func ExampleNewSecret() {
	secret := webhook.NewSecret() // random: store it, show it to the receiver once
	fmt.Println(strings.HasPrefix(secret, "whsec_"), len(secret))
	// Output: true 50
}

func ExampleVerifier_Verify() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	v, err := webhook.NewVerifier(secret)
	if err != nil {
		log.Fatal(err)
	}
	// A fixed clock so that the output does not depend on today's date.
	v.Now = func() time.Time { return time.Unix(1614265330, 0) }

	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")

	fmt.Println(v.Verify(h, []byte(`{"test": 2432232314}`)))

	err = v.Verify(h, []byte(`{"test": 1}`))
	fmt.Println(errors.Is(err, webhook.ErrNoMatchingSignature))
	fmt.Println(err)

	v.Now = func() time.Time { return time.Unix(1614265330+412, 0) }
	fmt.Println(v.Verify(h, []byte(`{"test": 2432232314}`)))
	// Output:
	// <nil>
	// true
	// no matching webhook signature: 1 v1 signature checked against 1 secret
	// webhook timestamp too old: 412 seconds in the past, tolerance is 300 seconds
}

func ExampleVerifier_Middleware() {
	secret := webhook.NewSecret()
	v, err := webhook.NewVerifier(secret)
	if err != nil {
		log.Fatal(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // the middleware put the verified body back
		fmt.Fprintf(w, "got %s", body)
	})
	srv := httptest.NewServer(v.Middleware(handler))
	defer srv.Close()

	// What a sender (such as the Hookline server) does.
	signer, err := webhook.NewSigner(secret)
	if err != nil {
		log.Fatal(err)
	}
	send := func(body, signedBody string) {
		now := time.Now()
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set(webhook.HeaderID, "msg_1")
		req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(webhook.HeaderSignature, signer.Sign("msg_1", now, []byte(signedBody)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		reply, _ := io.ReadAll(resp.Body)
		fmt.Printf("%d %s\n", resp.StatusCode, strings.TrimSpace(string(reply)))
	}
	send(`{"n":1}`, `{"n":1}`)
	send(`{"n":2}`, `{"n":1}`)
	// Output:
	// 200 got {"n":1}
	// 401 no matching webhook signature: 1 v1 signature checked against 1 secret
}

// A debugging tool can show what it expected, and why a check failed.
func ExampleVerifier_Inspect() {
	v, err := webhook.NewVerifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		log.Fatal(err)
	}
	v.Now = func() time.Time { return time.Unix(1614265330, 0) }
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,dGhpcyBpcyBub3QgdGhlIHJpZ2h0IHNpZ25hdHVyZSE=")

	in := v.Inspect(h, []byte(`{"test": 2432232314}`))
	fmt.Println("error:   ", in.Err)
	fmt.Println("received:", in.Received[0])
	fmt.Println("expected:", in.Expected[0])
	// Output:
	// error:    no matching webhook signature: 1 v1 signature checked against 1 secret
	// received: v1,dGhpcyBpcyBub3QgdGhlIHJpZ2h0IHNpZ25hdHVyZSE=
	// expected: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

func ExampleStripeSignature() {
	body := []byte(`{"id":"evt_1","object":"event"}`)
	ts := time.Unix(1614265330, 0)
	header := webhook.StripeSignature(ts, body, "whsec_test_secret")
	fmt.Println(header[:strings.Index(header, ",")])
	fmt.Println(webhook.VerifyStripe(header, body, 5*time.Minute, ts.Add(time.Minute), "whsec_test_secret"))
	// Output:
	// t=1614265330
	// <nil>
}

// An asymmetric (v1a) signature is checked with the sender's public key
// ("whpk_…"), which the receiver can publish or share freely. The key,
// message and signature are a Standard Webhooks v1a test vector.
func ExampleNewVerifier_publicKey() {
	v, err := webhook.NewVerifier("whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=")
	if err != nil {
		log.Fatal(err)
	}
	v.Now = func() time.Time { return time.Unix(1614265330, 0) }

	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==")

	fmt.Println(v.Verify(h, []byte(`{"test": 2432232314}`)))
	fmt.Println(v.Verify(h, []byte(`{"test": 1}`)))
	// Output:
	// <nil>
	// no matching webhook signature: 1 v1a signature checked against 1 public key
}

// A receiver fetches the sender's JWK set (Hookline serves it at
// /.well-known/webhook-keys), trusts only its own endpoint's keys, and
// verifies v1a signatures with them. The set holds other endpoints' keys
// too: a message signed for one of those is refused.
func ExampleNewVerifierJWKS() {
	// The sender: a key pair per endpoint, the public keys published as
	// JWKs named "<key set>.<thumbprint>", as Hookline names them: each
	// endpoint's key set is the same across its rotations and, the set
	// being public, says nothing of the endpoint.
	var secretKeys []string
	var set webhook.JWKSet
	for _, keySet := range []string{"ks_mine", "ks_theirs"} {
		secretKey, publicKey := webhook.NewKeyPair()
		tp, err := webhook.Thumbprint(publicKey)
		if err != nil {
			log.Fatal(err)
		}
		jwk, err := webhook.NewJWK(publicKey, keySet+"."+tp)
		if err != nil {
			log.Fatal(err)
		}
		set.Keys = append(set.Keys, jwk)
		secretKeys = append(secretKeys, secretKey)
	}
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	defer keys.Close()

	// The receiver of the first endpoint, whose key set is ks_mine: fetch
	// the set (capped, as every body should be) and pin that key set.
	// Without the pin, NewVerifierJWKS refuses a set of more than one key.
	resp, err := http.Get(keys.URL + "/.well-known/webhook-keys")
	if err != nil {
		log.Fatal(err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	v, err := webhook.NewVerifierJWKS(body, webhook.PinKeySet("ks_mine"))
	if err != nil {
		log.Fatal(err)
	}
	_, err = webhook.NewVerifierJWKS(body, nil)
	fmt.Println(err != nil)

	// A message signed for each endpoint with its secret key.
	sign := func(secretKey string, payload []byte) http.Header {
		signer, err := webhook.NewSigner(secretKey)
		if err != nil {
			log.Fatal(err)
		}
		now := time.Now()
		h := http.Header{}
		h.Set(webhook.HeaderID, "msg_1")
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(webhook.HeaderSignature, signer.Sign("msg_1", now, payload))
		return h
	}
	payload := []byte(`{"type":"invoice.paid"}`)
	fmt.Println(v.Verify(sign(secretKeys[0], payload), payload))
	fmt.Println(errors.Is(v.Verify(sign(secretKeys[1], payload), payload), webhook.ErrNoMatchingSignature))
	// Output:
	// true
	// <nil>
	// true
}
