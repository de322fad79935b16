#!/bin/sh
# Points apt at another Debian mirror for the length of an image build step.
#   apt-mirror.sh set MIRROR [SECURITY_MIRROR]
#   apt-mirror.sh restore
#   apt-mirror.sh update
# MIRROR is the base URL of the Debian archive; "" keeps the image's sources.
# SECURITY_MIRROR is that of the security archive ("" = left out).
# The e2e test passes the build host's own mirrors (read from its apt sources)
# so that builds work where the default mirror cannot be reached; "restore"
# puts the image's sources back so that the mirror does not leak into it.
# "update" is apt-get update, failing on any error but retried: build hosts
# with a flaky resolver should not fail a build.
set -eu
saved=/var/tmp/apt-sources.orig
case "${1:-}" in
set)
	mirror=${2:-}
	security=${3:-}
	[ -n "$mirror" ] || exit 0
	# shellcheck disable=SC1091
	. /etc/os-release
	mkdir -p "$saved"
	cp -a /etc/apt/sources.list* "$saved"/ 2>/dev/null || true
	rm -f /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list
	{
		echo "deb $mirror $VERSION_CODENAME main"
		echo "deb $mirror $VERSION_CODENAME-updates main"
		if [ -n "$security" ]; then
			echo "deb $security $VERSION_CODENAME-security main"
		fi
	} >/etc/apt/sources.list
	;;
restore)
	[ -d "$saved" ] || exit 0
	rm -rf /etc/apt/sources.list /etc/apt/sources.list.d
	cp -a "$saved"/sources.list* /etc/apt/
	rm -rf "$saved"
	;;
update)
	for delay in 2 4 8 16 0; do
		apt-get update --error-on=any && exit 0
		[ "$delay" -gt 0 ] || break
		echo "apt-get update failed, retrying in ${delay}s" >&2
		sleep "$delay"
	done
	exit 1
	;;
*)
	echo "usage: apt-mirror.sh set MIRROR [SECURITY_MIRROR] | restore | update" >&2
	exit 2
	;;
esac
