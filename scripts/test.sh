#!/usr/bin/env bash
# test.sh runs every test of Hookline, from a fresh machine: it installs
# what the tests need (PostgreSQL, Chromium, Django and stripe-python from
# Debian's packages, twilio-node from npm) when it is missing, then vets and
# tests every package.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-postgres.sh >/dev/null
bash scripts/ensure-chromium.sh >/dev/null # the dashboard's browser tests
bash scripts/ensure-django.sh >/dev/null   # the e2e test of Stripe's Django view
bash scripts/ensure-twilio-node.sh >/dev/null # the inbound Twilio test's peer library

echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 14m ./...
