#!/usr/bin/env bash
# ensure-twilio-node.sh makes sure twilio-node (npm's twilio, the version
# pinned in scripts/twilio-node) is installed, for the test that checks
# Hookline's inbound Twilio verification against the signatures Twilio's
# own Node library makes and accepts (internal/inbound/twilio_node_test.go).
# It installs into HOOKLINE_TWILIO_NODE, by default the user's cache
# directory (where the test looks), never into the source tree, and installs
# Node.js and npm from Debian's packages when they are missing. Idempotent:
# with the pinned version in place it changes nothing.
#
# twilio 6.x declares engines node >= 20, but Debian bookworm's nodejs is
# 18 (with npm 9): the test has passed under it, yet Twilio does not
# support that Node, so the script says so rather than fail; for a
# supported one, install Node 20+ (Debian trixie's nodejs, or nodejs.org's)
# before running it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

dir="${HOOKLINE_TWILIO_NODE:-${XDG_CACHE_HOME:-$HOME/.cache}/hookline/twilio-node}"
want="$(sed -n 's/.*"twilio": "\(.*\)".*/\1/p' scripts/twilio-node/package.json)"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "ensure-twilio-node: node or npm missing; installing Debian's nodejs and npm" >&2
	apt_install ensure-twilio-node nodejs npm
	command -v node >/dev/null || { echo "ensure-twilio-node: nodejs installed but node is not on PATH" >&2; exit 1; }
fi

# The Node twilio asks for, from the lock file: ">=20.0.0".
engines="$(node -e 'console.log(require(process.argv[1]).packages["node_modules/twilio"].engines.node)' "$PWD/scripts/twilio-node/package-lock.json")"
need="$(echo "$engines" | sed -n 's/^>=\([0-9]*\).*/\1/p')"
have="$(node -e 'console.log(process.versions.node.split(".")[0])')"
if [ -n "$need" ] && [ "$have" -lt "$need" ]; then
	echo "ensure-twilio-node: warning: node $(node --version) is older than twilio $want supports (node $engines); the test may still pass (it has under Debian bookworm's node 18), but Twilio does not support it" >&2
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
