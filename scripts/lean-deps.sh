#!/usr/bin/env bash
# Builds the lean libcurl and libmicrohttpd that the container image and the
# benchmark link: Debian's own source packages, with Debian's patches (so
# with its security fixes), configured for what quorum-peerd uses and
# nothing else: HTTP/1.1 over TCP, no TLS, no other protocol, no
# compression, no IDN, no Kerberos, no LDAP, no SSH. libcurl resolves names
# with c-ares (Debian's source too), libcurl's asynchronous resolver, in
# place of its threaded one. They are installed as static,
# position-independent archives with their headers and pkg-config files
# under PREFIX:
#
#   scripts/lean-deps.sh [PREFIX]            (default: build-deps/lean)
#   cmake -S . -B build-lean -DLEAN=ON [-DLEAN_PREFIX=PREFIX]
#
# Why: Debian's libcurl and libmicrohttpd pull 30 shared libraries into the
# process, and at every start libcurl initialises libssh2, which initialises
# OpenSSL. The daemon then maps, relocates and initialises all of it for a
# few plain HTTP requests: about 3 ms of CPU per start and 6 MB of RSS (see
# README, Performance). The lean binary loads libc, libsodium, libsecp256k1
# and cJSON at start, and libcrypto only when it makes or decrypts a keystore
# (src/aesctr.c).
#
# Why c-ares: the threaded resolver starts a thread for every name lookup,
# so for every request to a peer (clone, a socketpair to wake the loop,
# signal masks, the thread's exit), which was 8-12% of all the daemons' CPU
# at N=200. c-ares runs in the daemon's event loop (its sockets go through
# libcurl's socket callback like the transfers'), reads /etc/hosts,
# /etc/nsswitch.conf's hosts order and /etc/resolv.conf (nameservers,
# search, ndots, timeout, attempts), and makes no thread.
#
# The sources come from the Debian archive this machine's apt already uses
# (deb-src entries are derived from its deb entries; apt checks them against
# the signed release files). A PREFIX built before is reused as it is;
# LEAN_REFRESH=1 fetches the current sources and builds again.
# Needs dpkg-dev (dpkg-source), a C toolchain and make (scripts/deps.sh lean).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-$root/build-deps/lean}
# configure wants an absolute prefix; a relative one means from here.
case "$prefix" in /*) ;; *) prefix=$PWD/$prefix ;; esac
jobs=$(nproc 2>/dev/null || echo 2)

# What each library is built without: the daemon uses none of it.
curl_flags=(--disable-shared --enable-static --with-pic
	--disable-dependency-tracking --disable-threaded-resolver
	--enable-ares="$prefix" --enable-ipv6
	--without-ssl --without-zlib --without-brotli --without-zstd
	--without-libpsl --without-librtmp --without-libidn2 --without-nghttp2
	--without-libssh2 --without-libssh --without-wolfssh --without-gssapi
	--disable-ldap --disable-ldaps --disable-rtsp --disable-dict
	--disable-telnet --disable-tftp --disable-pop3 --disable-imap
	--disable-smb --disable-smtp --disable-gopher --disable-mqtt
	--disable-ftp --disable-file --disable-manual --disable-ntlm
	--disable-ntlm-wb --disable-alt-svc --disable-hsts --disable-cookies
	--disable-netrc --disable-dateparse --disable-mime --disable-doh
	--disable-websockets --disable-unix-sockets --disable-docs)
cares_flags=(--disable-shared --enable-static --with-pic
	--disable-dependency-tracking --disable-tests)
mhd_flags=(--disable-shared --enable-static --with-pic
	--disable-dependency-tracking --disable-https --disable-doc
	--disable-examples --disable-curl --disable-postprocessor
	--disable-bauth --disable-dauth --disable-httpupgrade --disable-nls)

die() { echo "lean-deps: $*" >&2; exit 1; }

# The stamp names each library built and its version; a PREFIX built by an
# older version of this script (a library missing) is built again.
stamp=$prefix/lean-deps.stamp
if [ -f "$stamp" ] && [ "${LEAN_REFRESH:-0}" != 1 ] &&
	grep -q '^c-ares ' "$stamp" && grep -q '^curl ' "$stamp" &&
	grep -q '^libmicrohttpd ' "$stamp"; then
	echo "lean-deps: reusing $prefix ($(paste -sd' ' "$stamp"))" >&2
	exit 0
fi
command -v dpkg-source >/dev/null || die "dpkg-source missing (apt-get install dpkg-dev)"
command -v apt-get >/dev/null || die "apt-get missing: a Debian system is needed"

work=$(mktemp -d "${TMPDIR:-/tmp}/lean-deps.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# --- deb-src entries from this system's deb entries -----------------------
apt=$work/apt
mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache/archives/partial"
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	sed -e 's/^Types:.*/Types: deb-src/' "$f" >"$apt/parts/$(basename "$f")"
done
{
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -n -e 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f"
	done
} >"$apt/sources.list"
aptopts=(-o "Dir::Etc::SourceList=$apt/sources.list"
	-o "Dir::Etc::SourceParts=$apt/parts"
	-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
	-o Debug::NoLocking=1 -o APT::Sandbox::User=root
	-o Acquire::Retries=5)
echo "lean-deps: fetching the source packages of c-ares, curl and libmicrohttpd" >&2
apt-get "${aptopts[@]}" -qq update >/dev/null ||
	die "apt-get update (deb-src) failed"
(cd "$work" && apt-get "${aptopts[@]}" -qq source --download-only \
	c-ares curl libmicrohttpd >/dev/null) || die "apt-get source failed"

# --- unpack (Debian's patches applied), configure, build, install ---------
version_of() { # version_of PKG: from PKG_VERSION.dsc
	local d
	d=$(cd "$work" && ls "$1"_*.dsc) || die "no $1 source package"
	d=${d#"$1"_}
	printf '%s\n' "${d%.dsc}"
}
cares_v=$(version_of c-ares)
curl_v=$(version_of curl)
mhd_v=$(version_of libmicrohttpd)
(cd "$work" && dpkg-source -x "c-ares_$cares_v.dsc" cares &&
	dpkg-source -x "curl_$curl_v.dsc" curl &&
	dpkg-source -x "libmicrohttpd_$mhd_v.dsc" mhd) >/dev/null 2>&1 ||
	die "dpkg-source -x failed"

rm -rf -- "$prefix"
mkdir -p "$prefix"
build() { # build NAME DIR LIBDIR INCDIR CFLAGS FLAGS...
	local name=$1 dir=$2 lib=$3 inc=$4 cflags=$5
	shift 5
	echo "lean-deps: building $name" >&2
	(cd "$dir" && ./configure --prefix="$prefix" --libdir="$prefix/lib" \
		CFLAGS="$cflags" "$@" &&
		make -j"$jobs" -C "$lib" && make -C "$lib" install &&
		make -C "$inc" install && make install-pkgconfigDATA) \
		>"$work/$name.log" 2>&1 || {
		tail -n 30 "$work/$name.log" >&2
		die "building $name failed"
	}
}
# c-ares first: libcurl's configure looks for it in PREFIX. Its assert()s
# are consistency checks of its own lists, and ares_destroy walks all 3072
# of a channel's query lists to assert each is empty: 4 ms of the daemons'
# CPU in (b) of bench/convergence.sh. NDEBUG leaves them out (libcurl and
# libmicrohttpd have their own debug switches, off in a release build).
build c-ares "$work/cares" src/lib include "-O2 -g0 -DNDEBUG" "${cares_flags[@]}"
build libcurl "$work/curl" lib include "-O2 -g0" "${curl_flags[@]}"
build libmicrohttpd "$work/mhd" src/microhttpd src/include "-O2 -g0" \
	"${mhd_flags[@]}"
# Only the archives: a linker must not find a shared library here.
rm -f "$prefix"/lib/*.la "$prefix"/lib/*.so*
printf 'c-ares %s\ncurl %s\nlibmicrohttpd %s\n' "$cares_v" "$curl_v" "$mhd_v" \
	>"$stamp"
echo "lean-deps: installed in $prefix: c-ares $cares_v, curl $curl_v," \
	"libmicrohttpd $mhd_v" >&2
