# shellcheck shell=bash
# deps.sh - install the Debian packages the build needs, when missing.
# Sourced by scripts/demo.sh, scripts/test.sh and bench/run.sh.
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

vpte_need_build() { # what a Release build of the library and tool needs
	vpte_need cmake cmake
	vpte_need cc gcc
	vpte_need make make
}
