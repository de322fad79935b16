#!/usr/bin/env bash
# Runs every test suite of quorum-peerd, installing what a fresh Debian 12
# machine lacks first. Exit status is non-zero if anything fails.
#
#   scripts/test.sh                 every suite
#   scripts/test.sh unit interop    only the named suites
#
# Suites: unit asan interop fuzz cluster lean pid1 helm e2e
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${BUILD_DIR:-$root/build}
build_asan=${BUILD_ASAN_DIR:-$root/build-asan}
build_fuzz=${BUILD_FUZZ_DIR:-$root/build-fuzz}
build_lean=${BUILD_LEAN_DIR:-$root/build-lean}
lean_prefix=${LEAN_PREFIX:-$root/build-deps/lean}
all_suites=(unit asan interop fuzz cluster lean pid1 helm e2e)
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=("${all_suites[@]}")

say() { printf '== %s\n' "$*" >&2; }

want() {
	local s
	for s in "${suites[@]}"; do [ "$s" = "$1" ] && return 0; done
	return 1
}

# --- dependencies (scripts/deps.sh installs what is missing) -------------
install_deps() {
	local groups=(build)
	want fuzz && groups+=(fuzz)
	{ want cluster || want lean; } && groups+=(cluster)
	want lean && groups+=(lean)
	{ want interop || want helm; } && groups+=(node)
	want helm && groups+=(helm)
	want e2e && groups+=(e2e)
	"$root/scripts/deps.sh" "${groups[@]}"
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

# The lean build (scripts/lean-deps.sh: libcurl with c-ares, and
# libmicrohttpd, from Debian's sources without TLS, linked statically), as
# the image ships it: it must not load them (nor libcrypto) at start, and it
# passes the unit tests and the cluster cases that exercise HTTP both ways
# (garbage and oversized answers, relaying, a wrong secret) and name
# resolution (a name that never resolves, host names in the configs).
suite_lean() {
	"$root/scripts/lean-deps.sh" "$lean_prefix" &&
		cmake -S "$root" -B "$build_lean" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
			-DLEAN=ON -DLEAN_PREFIX="$lean_prefix" >/dev/null &&
		cmake --build "$build_lean" -j"$(nproc)" || return 1
	# libcrypto too: aesctr loads it only when a keystore needs it.
	if ldd "$build_lean/quorum-peerd" | grep -E 'libcurl|libcares|libmicrohttpd|libcrypto'; then
		say "lean: quorum-peerd loads a shared libcurl/libcares/libmicrohttpd/libcrypto at start"
		return 1
	fi
	ctest --test-dir "$build_lean" --output-on-failure &&
		PEERD="$build_lean/quorum-peerd" BUILD="$build_lean" \
			tests/cluster/run.sh n5 hostile secret relay dns dnsmode
}

suite_pid1() {
	build_normal && tests/pid1/run.sh "$build"
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
	unit | asan | interop | fuzz | cluster | lean | pid1 | helm | e2e)
		run_suite "$s" "suite_$s" ;;
	*) say "unknown suite $s (known: ${all_suites[*]})"; exit 2 ;;
	esac
done

echo "suites: $passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
	say "failed: ${failed_names[*]}"
	exit 1
fi
