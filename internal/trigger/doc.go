// Package trigger owns `hookline trigger`'s catalog: realistic sample flows,
// one embedded JSON file per trigger under catalog/, each a list of events in
// the order a real system sends them, with ids, amounts and timestamps that
// hang together across the flow.
//
// A fixture file is
//
//	{"name": "payment_intent.succeeded", "description": "…",
//	 "vars": {"pi": "id:pi", "amount": 2000},
//	 "events": [{"type": "payment_intent.created", "data": {…"${pi}"…}}, …]}
//
// Generate fills it in: a string that is exactly "${name}" becomes the
// variable's value with its JSON type (so amounts stay numbers), and
// "${name}" inside a longer string is replaced by its text. Variables are
// literal JSON values, or generated once per run: "id:pi" (pi_ and 24
// random letters and digits), "hex:40" (40 random hex digits), "num:123456"
// (a random number of that many digits). Built in are now (Unix seconds),
// now+N and now-N (seconds from now) and now_iso (RFC 3339, UTC).
package trigger
