#!/usr/bin/env bash
# ensure-twilio-node.sh makes sure twilio-node (npm's twilio, the version
# pinned in scripts/twilio-node) is installed, for the test that checks
# Hookline's inbound Twilio verification against the signatures Twilio's
# own Node library makes and accepts (internal/inbound/twilio_node_test.go).
# It installs into HOOKLINE_TWILIO_NODE, by default the user's cache
# directory (where the test looks), never into the source tree, and installs
# Node.js and npm from Debian's packages when they are missing. Idempotent:
# with the pinned version in place it changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${HOOKLINE_TWILIO_NODE:-${XDG_CACHE_HOME:-$HOME/.cache}/hookline/twilio-node}"
want="$(sed -n 's/.*"twilio": "\(.*\)".*/\1/p' scripts/twilio-node/package.json)"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "ensure-twilio-node: node or npm missing; installing Debian's nodejs and npm" >&2
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		sudo="sudo"
	fi
	export DEBIAN_FRONTEND=noninteractive
	# apt's lock may be held by another install; wait for it rather than fail.
	for i in $(seq 1 60); do
		if $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null 2>&1; then
			break
		fi
		if [ "$i" -eq 1 ]; then
			$sudo apt-get update -qq || true
		fi
		sleep 5
	done
	command -v node >/dev/null || { echo "ensure-twilio-node: nodejs installed but node is not on PATH" >&2; exit 1; }
fi

installed() {
	node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
		"$dir/node_modules/twilio/package.json" "$want" 2>/dev/null
}

if ! installed; then
	echo "ensure-twilio-node: installing twilio $want into $dir" >&2
	mkdir -p "$dir"
	cp scripts/twilio-node/package.json scripts/twilio-node/package-lock.json "$dir/"
	npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >&2
	installed || { echo "ensure-twilio-node: npm ci finished but twilio $want is not in $dir" >&2; exit 1; }
fi

echo "ensure-twilio-node: twilio $want in $dir, node $(node --version)"
