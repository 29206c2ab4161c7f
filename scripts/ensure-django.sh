#!/usr/bin/env bash
# ensure-django.sh makes sure Debian's python3-django and python3-stripe are
# installed, for the end-to-end test that runs a minimal Django project whose
# view verifies with stripe.Webhook.construct_event exactly as Stripe's
# tutorials write it (internal/e2e/django_test.go). They are Debian's
# packages for /usr/bin/python3, not a virtualenv's or pyenv's python3 that
# may come first on PATH. Idempotent: with both importable it changes
# nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

py=/usr/bin/python3
if ! "$py" -c 'import django, stripe' 2>/dev/null; then
	echo "ensure-django: django or stripe missing for $py; installing Debian's python3-django and python3-stripe" >&2
	apt_install ensure-django python3-django python3-stripe
	if ! "$py" -c 'import django, stripe' 2>/dev/null; then
		echo "ensure-django: python3-django and python3-stripe installed but $py still cannot import them" >&2
		exit 1
	fi
fi

echo "ensure-django: $("$py" -c 'import django, stripe; import stripe.version; print("Django", django.get_version(), "and stripe", stripe.version.VERSION)')"
