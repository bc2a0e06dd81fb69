# shellcheck shell=bash
# deps.sh - install the Debian packages the build needs, when missing.
# Sourced by scripts/demo.sh and scripts/test.sh.
vpte_need() { # vpte_need COMMAND PACKAGE...
	local cmd=$1
	shift
	command -v "$cmd" >/dev/null 2>&1 && return 0
	echo "vpte: installing $* (for $cmd)" >&2
	if [ -z "${VPTE_APT_UPDATED:-}" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
		VPTE_APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}
