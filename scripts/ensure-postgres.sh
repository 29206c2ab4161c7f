#!/usr/bin/env bash
# ensure-postgres.sh makes sure PostgreSQL's server binaries (initdb,
# postgres) are installed, for the tests of internal/store/postgres, which
# start a throwaway server through internal/pgtest. It installs Debian's
# postgresql package when they are missing and prints where they are.
# Idempotent: with the binaries present it changes nothing.
set -euo pipefail

find_bindir() {
	local p
	if p=$(command -v initdb 2>/dev/null); then
		p=$(readlink -f "$p")
		if [ -x "$(dirname "$p")/postgres" ]; then
			dirname "$p"
			return 0
		fi
	fi
	# Debian keeps the server binaries off PATH; newest major version first.
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -rn); do
		if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

if ! bindir=$(find_bindir); then
	echo "ensure-postgres: initdb not found; installing Debian's postgresql package" >&2
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		sudo="sudo"
	fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	# The package's own cluster is not used: pgtest makes its own.
	$sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
	if ! bindir=$(find_bindir); then
		echo "ensure-postgres: postgresql installed but initdb still not found" >&2
		exit 1
	fi
fi

echo "ensure-postgres: PostgreSQL binaries in $bindir ($("$bindir/postgres" --version))"
