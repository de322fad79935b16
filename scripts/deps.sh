#!/usr/bin/env bash
# Installs, on Debian 12, what building and testing quorum-peerd needs and
# is missing. Groups: build (always), fuzz, cluster, lean, helm, e2e, node.
#   scripts/deps.sh build cluster
set -uo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pkgs=(build-essential cmake pkg-config libsodium-dev libsecp256k1-dev
	libcjson-dev libssl-dev libmicrohttpd-dev libcurl4-openssl-dev
	libcmocka-dev iproute2 procps util-linux psmisc curl)
need_node=0
for g in "$@"; do
	case "$g" in
	build) ;;
	fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
	cluster) pkgs+=(wrk python3 time) ;;
	lean) pkgs+=(dpkg-dev) ;; # scripts/lean-deps.sh: dpkg-source
	helm) pkgs+=(golang-go golang-github-masterminds-sprig-dev); need_node=1 ;;
	e2e) pkgs+=(docker.io docker-compose debootstrap) ;;
	node) need_node=1 ;;
	*) echo "deps.sh: unknown group $g" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed' || missing+=("$p")
done
# Node.js may come from elsewhere than Debian; only install it if absent.
if [ "$need_node" = 1 ] && ! { command -v node && command -v npm; } >/dev/null; then
	missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "== installing: ${missing[*]}" >&2
as_root apt-get update -qq || exit 1
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq \
	--no-install-recommends "${missing[@]}" >/dev/null
