// peer.js lets twilio-node sign and judge the requests of
// internal/inbound/twilio_node_test.go, so Hookline is checked against
// Twilio's own library rather than against itself. It reads a JSON array of
// cases on stdin and writes, for each, the signature twilio-node computes
// for what the signer signed, and whether twilio-node accepts the request
// as sent (the request's settings header choosing the algorithm, as
// twilio-node's own webhook middleware does).
"use strict";

const querystring = require("querystring");
const twilio = require("twilio");
const webhooks = require("twilio/lib/webhooks/webhooks");

// A form body as Express's urlencoded({ extended: false }) parses it:
// repeated names become arrays.
const params = (c, body) => (c.json ? {} : querystring.parse(body));

let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((c) => {
    const signature = webhooks.getExpectedTwilioSignature(c.signToken, c.url, params(c, c.signBody), c.signAlgorithm);
    const algorithm = webhooks.getSignatureAlgorithm(c.settings);
    const valid = c.json
      ? twilio.validateRequestWithBody(c.token, signature, c.url, c.body, algorithm)
      : twilio.validateRequest(c.token, signature, c.url, params(c, c.body), algorithm);
    return { signature, valid };
  });
  process.stdout.write(JSON.stringify(out));
});
