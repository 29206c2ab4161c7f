#!/usr/bin/env bash
# ensure-chromium.sh makes sure a headless-capable Chromium is installed, for
# the dashboard's browser tests (internal/dashboard drives it over the
# DevTools protocol with chromedp, so no separate driver is needed). It
# installs Debian's chromium package when /usr/bin/chromium is missing and
# prints its version. Idempotent: with Chromium present it changes nothing.
set -euo pipefail

bin=${HOOKLINE_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$bin" ]; then
	echo "ensure-chromium: $bin not found; installing Debian's chromium package" >&2
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		sudo="sudo"
	fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
	if [ ! -x "$bin" ]; then
		echo "ensure-chromium: chromium installed but $bin still not found" >&2
		exit 1
	fi
fi

echo "ensure-chromium: $("$bin" --version 2>/dev/null || echo "$bin")"
