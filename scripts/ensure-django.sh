#!/usr/bin/env bash
# ensure-django.sh makes sure Debian's python3-django and python3-stripe are
# installed, for the end-to-end test that runs a minimal Django project whose
# view verifies with stripe.Webhook.construct_event exactly as Stripe's
# tutorials write it (internal/e2e/django_test.go). They are Debian's
# packages for /usr/bin/python3, not a virtualenv's or pyenv's python3 that
# may come first on PATH. Idempotent: with both importable it changes
# nothing.
set -euo pipefail

py=/usr/bin/python3
if ! "$py" -c 'import django, stripe' 2>/dev/null; then
	echo "ensure-django: django or stripe missing for $py; installing Debian's python3-django and python3-stripe" >&2
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		sudo="sudo"
	fi
	export DEBIAN_FRONTEND=noninteractive
	# apt's lock may be held by another install; wait for it rather than fail.
	for i in $(seq 1 60); do
		if $sudo apt-get install -y -qq --no-install-recommends python3-django python3-stripe >/dev/null 2>&1; then
			break
		fi
		if [ "$i" -eq 1 ]; then
			$sudo apt-get update -qq || true
		fi
		sleep 5
	done
	if ! "$py" -c 'import django, stripe' 2>/dev/null; then
		echo "ensure-django: python3-django and python3-stripe installed but $py still cannot import them" >&2
		exit 1
	fi
fi

echo "ensure-django: $("$py" -c 'import django, stripe; import stripe.version; print("Django", django.get_version(), "and stripe", stripe.version.VERSION)')"
