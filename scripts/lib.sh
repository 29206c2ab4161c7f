# lib.sh holds what the ensure-*.sh scripts share; they source it:
#   . "$(dirname "$0")/lib.sh"

# apt_install WHO PACKAGE... installs Debian packages, as root or through
# sudo, saying WHO is asking. apt's lock may be held by another install
# (another ensure script, an unattended upgrade): that it waits for, up to
# 5 minutes, and says so. Any other failure, or the lock still held at the
# end, prints apt's own last error and fails at once, rather than retrying
# in silence.
apt_install() {
	local who="$1"
	shift
	local sudo="" log i
	if [ "$(id -u)" -ne 0 ]; then
		sudo="sudo"
	fi
	log="$(mktemp)"
	for i in $(seq 1 60); do
		if $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1; then
			rm -f "$log"
			return 0
		fi
		if [ "$i" -eq 1 ]; then
			# The package lists may be missing or stale (a fresh container).
			$sudo apt-get update -qq >>"$log" 2>&1 || true
			continue
		fi
		if ! grep -qE 'Could not get lock|Unable to acquire|is held by process' "$log"; then
			break # not the lock: waiting will not help
		fi
		if [ "$i" -eq 2 ]; then
			echo "$who: apt is busy (another install holds its lock); waiting up to 5 minutes" >&2
		fi
		sleep 5
	done
	echo "$who: apt-get install $* failed; apt said:" >&2
	tail -n 20 "$log" >&2
	rm -f "$log"
	return 1
}
