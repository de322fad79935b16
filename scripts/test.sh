#!/usr/bin/env bash
# Runs every test suite of quorum-peerd, installing what a fresh Debian 12
# machine lacks first. Exit status is non-zero if anything fails, and also
# if a requested suite did not run (a suite that needs the real GoQuorum
# geth where there is none): "not run" is never "passed".
#
#   scripts/test.sh                 every suite
#   scripts/test.sh unit interop    only the named suites
#
# Suites: unit asan interop fuzz cluster quorum lean pid1 helm e2e
# QUORUM_GETH=path picks the real geth of quorum and e2e (default:
# ../shared/quorum/geth beside the repository).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${BUILD_DIR:-$root/build}
build_asan=${BUILD_ASAN_DIR:-$root/build-asan}
build_fuzz=${BUILD_FUZZ_DIR:-$root/build-fuzz}
build_lean=${BUILD_LEAN_DIR:-$root/build-lean}
lean_prefix=${LEAN_PREFIX:-$root/build-deps/lean}
all_suites=(unit asan interop fuzz cluster quorum lean pid1 helm e2e)
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
	{ want cluster || want lean || want quorum; } && groups+=(cluster)
	want lean && groups+=(lean)
	{ want interop || want helm || want quorum || want e2e; } && groups+=(node)
	want helm && groups+=(helm)
	want e2e && groups+=(e2e)
	"$root/scripts/deps.sh" "${groups[@]}"
}

# --- suites ----------------------------------------------------------------
passed=0
failed=0
failed_names=()
not_run=0
not_run_names=()
# A suite function returns NOT_RUN when what it tests could not be run here
# (tests/quorum/run.sh and tests/e2e/run.sh exit 3 without a real geth).
NOT_RUN=77

run_suite() {
	local name=$1 rc
	shift
	say "suite $name"
	local t0=$SECONDS
	"$@"
	rc=$?
	if [ "$rc" = 0 ]; then
		passed=$((passed + 1))
		say "suite $name: PASS ($((SECONDS - t0)) s)"
	elif [ "$rc" = "$NOT_RUN" ]; then
		not_run=$((not_run + 1))
		not_run_names+=("$name")
		say "suite $name: NOT RUN ($((SECONDS - t0)) s)"
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		say "suite $name: FAIL ($((SECONDS - t0)) s)"
	fi
}

# not_run_if CODE CMD...: runs CMD; its exit code CODE means "not run".
not_run_if() {
	local code=$1 rc
	shift
	"$@"
	rc=$?
	[ "$rc" = "$code" ] && return "$NOT_RUN"
	[ "$rc" = "$NOT_RUN" ] && return 1 # never taken for "not run" by chance
	return "$rc"
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
			fuzz_tmkey fuzz_gethrpc &&
		FUZZ_DIR="$build_fuzz" FUZZ_SECONDS=${FUZZ_SECONDS:-20} \
			tests/fuzz/run.sh
}

suite_cluster() {
	build_normal && PEERD="$build/quorum-peerd" BUILD="$build" \
		tests/cluster/run.sh
}

# The real GoQuorum geth (QUORUM_GETH, default ../shared/quorum/geth):
# raft and IBFT networks of daemons as PID 1 in namespaces, a contract flow,
# restarts, /status against geth. Without a real geth it exits 3: not run.
suite_quorum() {
	build_normal || return 1
	not_run_if 3 env PEERD="$build/quorum-peerd" tests/quorum/run.sh
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

# Exits 3 when everything it ran passed but its real-geth part could not run.
suite_e2e() {
	not_run_if 3 tests/e2e/run.sh
}

install_deps || { say "cannot install dependencies"; exit 1; }
for s in "${suites[@]}"; do
	case "$s" in
	unit | asan | interop | fuzz | cluster | quorum | lean | pid1 | helm | e2e)
		run_suite "$s" "suite_$s" ;;
	*) say "unknown suite $s (known: ${all_suites[*]})"; exit 2 ;;
	esac
done

echo "suites: $passed passed, $failed failed, $not_run not run"
[ "$failed" -gt 0 ] && say "failed: ${failed_names[*]}"
[ "$not_run" -gt 0 ] && say "not run: ${not_run_names[*]} (a requested suite that did not run fails the run)"
if [ "$failed" -gt 0 ] || [ "$not_run" -gt 0 ]; then
	exit 1
fi
