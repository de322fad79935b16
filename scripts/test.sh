#!/usr/bin/env bash
# Runs every test suite of quorum-peerd, installing what a fresh Debian 12
# machine lacks first. Exit status is non-zero if anything fails.
#
#   scripts/test.sh                 every suite
#   scripts/test.sh unit interop    only the named suites
#
# Suites: unit asan interop fuzz cluster pid1 helm e2e
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${BUILD_DIR:-$root/build}
build_asan=${BUILD_ASAN_DIR:-$root/build-asan}
build_fuzz=${BUILD_FUZZ_DIR:-$root/build-fuzz}
all_suites=(unit asan interop fuzz cluster pid1 helm e2e)
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=("${all_suites[@]}")

say() { printf '== %s\n' "$*" >&2; }

want() {
	local s
	for s in "${suites[@]}"; do [ "$s" = "$1" ] && return 0; done
	return 1
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- dependencies ----------------------------------------------------------
install_deps() {
	local pkgs=(build-essential cmake pkg-config libsodium-dev
		libsecp256k1-dev libcjson-dev libssl-dev libmicrohttpd-dev
		libcurl4-openssl-dev libcmocka-dev iproute2 procps util-linux
		psmisc curl)
	want fuzz && pkgs+=(clang libclang-rt-14-dev)
	want cluster && pkgs+=(wrk)
	want helm && pkgs+=(golang-go golang-github-masterminds-sprig-dev)
	want e2e && pkgs+=(docker.io docker-compose debootstrap)
	local missing=()
	local p
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		{ want interop || want helm; } && missing+=(nodejs npm)
	fi
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing: ${missing[*]}"
		as_root apt-get update -qq || return 1
		DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq \
			--no-install-recommends "${missing[@]}" >/dev/null ||
			return 1
	fi
}

# --- suites ----------------------------------------------------------------
passed=0
failed=0
failed_names=()

run_suite() {
	local name=$1
	shift
	say "suite $name"
	local t0=$SECONDS
	if "$@"; then
		passed=$((passed + 1))
		say "suite $name: PASS ($((SECONDS - t0)) s)"
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		say "suite $name: FAIL ($((SECONDS - t0)) s)"
	fi
}

build_normal() {
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		>/dev/null && cmake --build "$build" -j"$(nproc)"
}

suite_unit() {
	build_normal && ctest --test-dir "$build" --output-on-failure
}

suite_asan() {
	cmake -S "$root" -B "$build_asan" -DASAN=ON \
		-DCMAKE_BUILD_TYPE=Debug >/dev/null &&
		cmake --build "$build_asan" -j"$(nproc)" &&
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
			ctest --test-dir "$build_asan" --output-on-failure
}

suite_interop() {
	build_normal && PEERD="$build/quorum-peerd" tests/interop/run.sh
}

suite_fuzz() {
	CC=clang cmake -S "$root" -B "$build_fuzz" -DFUZZ=ON \
		-DUNIT_TESTS=OFF -DCMAKE_C_COMPILER=clang >/dev/null &&
		cmake --build "$build_fuzz" -j"$(nproc)" \
			--target fuzz_peerdoc fuzz_settings fuzz_keystore \
			fuzz_tmkey &&
		FUZZ_DIR="$build_fuzz" FUZZ_SECONDS=${FUZZ_SECONDS:-20} \
			tests/fuzz/run.sh
}

suite_cluster() {
	build_normal && PEERD="$build/quorum-peerd" BUILD="$build" \
		tests/cluster/run.sh
}

suite_pid1() {
	build_normal && PEERD="$build/quorum-peerd" BUILD="$build" \
		tests/pid1/run.sh
}

suite_helm() {
	tests/helm/run.sh
}

suite_e2e() {
	tests/e2e/run.sh
}

install_deps || { say "cannot install dependencies"; exit 1; }
for s in "${suites[@]}"; do
	case "$s" in
	unit | asan | interop | fuzz | cluster | pid1 | helm | e2e)
		run_suite "$s" "suite_$s" ;;
	*) say "unknown suite $s (known: ${all_suites[*]})"; exit 2 ;;
	esac
done

echo "suites: $passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
	say "failed: ${failed_names[*]}"
	exit 1
fi
