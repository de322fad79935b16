#!/usr/bin/env bash
# Convergence benchmark on network namespaces (root). Prints figures only:
#
#  (a) identities already created, seconds from starting N daemons together
#      (they wait at a gate, then all exec at once) until the last shared
#      config file is in place on any of them (the files' ctimes: set by the
#      rename after the fsync), for each N
#      in SIZES; also the CPU seconds all N daemons used
#  (b) N=50: seconds from starting the last daemon (the other 49 already
#      polling it) until the last shared config is written
#  each in both discovery modes (MODES): direct (no secret) and relay
#  (c) VmRSS of one daemon after convergence (N=50 and the largest N)
#  (d) GET /env.json on one daemon, 64 connections for WRK_SECONDS (wrk):
#      requests/s and p99 latency
#
#   bench/convergence.sh                 SIZES="5 50 200" RUNS=3
#   SIZES="5 50" RUNS=5 MODES=relay bench/convergence.sh
#
# LIBS picks the build: lean (default; what the container image ships:
# libcurl with c-ares and libmicrohttpd, without TLS, linked statically,
# built by scripts/lean-deps.sh into build-lean/) or debian (Debian's
# shared libraries, build/). FS picks where the data dirs live: loop (default) a
# fresh ext4 file system with its journal (mkfs.ext4's defaults, as on a
# node's volume) on a loop device, made for this run and removed after it;
# host the directory under /tmp as it is. Why not host by default: on a
# file system without a journal ext4 checks every recently deleted inode
# each time it makes a file (recently_deleted() in ext4's inode
# allocator), and a benchmark that creates and replaces thousands of files
# a minute in one place pays for that on every write (19% of the daemons'
# CPU in (b) after repeated runs in one directory of such a host), which a
# node on its own volume never sees; a fresh file system per invocation
# also keeps the figures independent of what ran before. The figures name
# the build and the file system.
#
# Each figure is the median of RUNS runs (the runs are listed too). Every
# wait is bounded (LIMIT seconds, default 120); a run that does not converge
# in time prints "timeout(<written>/<N>)" and ends that N's runs.
# PEERD=path picks a binary instead of LIBS' build (built with cmake, and
# scripts/lean-deps.sh, if needed). Namespaces qpb-<i> on br-qpb in
# 10.215.0.0/16, all removed on exit.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
QP_NS=qpb-
QP_BR=br-qpb
QP_NET=10.215
QP_STATE=$(mktemp -d /tmp/qpb.XXXXXX)
# shellcheck source=scripts/lib/netns.sh
. "$root/scripts/lib/netns.sh"
LIBS=${LIBS:-lean}
FS=${FS:-loop}
fs_image=

SIZES=${SIZES:-5 50 200}
# direct: no CLUSTER_SECRET, every document fetched from its own node;
# relay: with a secret, documents relayed (see README, Discovery).
MODES=${MODES:-direct relay}
RUNS=${RUNS:-3}
LIMIT=${LIMIT:-120}
WRK_SECONDS=${WRK_SECONDS:-5}

lean_prefix=${LEAN_PREFIX:-$root/build-deps/lean}
case "$LIBS" in
lean) builddir=$root/build-lean ;;
debian) builddir=$root/build ;;
*) qp_die "LIBS must be lean or debian" ;;
esac
if [ -z "${PEERD:-}" ]; then
	prefix_opt=()
	if [ "$LIBS" = lean ]; then
		"$root/scripts/lean-deps.sh" "$lean_prefix" ||
			qp_die "cannot build the lean libraries"
		prefix_opt=(-DLEAN=ON -DLEAN_PREFIX="$lean_prefix")
	fi
	cmake -S "$root" -B "$builddir" "${prefix_opt[@]}" >/dev/null &&
		cmake --build "$builddir" -j"$(nproc)" --target quorum-peerd \
			>/dev/null || qp_die "cannot build quorum-peerd"
	PEERD=$builddir/quorum-peerd
else
	LIBS="PEERD=$PEERD"
fi
QP_PEERD=$(cd "$(dirname "$PEERD")" && pwd)/$(basename "$PEERD")
qp_need_root

cleanup() {
	qp_all_down
	if [ -n "$fs_image" ]; then
		umount "$QP_STATE" 2>/dev/null || umount -l "$QP_STATE"
		rm -f -- "$fs_image"
	fi
	rm -rf -- "$QP_STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case "$FS" in
loop)
	fs_image=$QP_STATE.img
	truncate -s "${FS_SIZE:-2G}" "$fs_image" &&
		mkfs.ext4 -q -F "$fs_image" &&
		mount -o loop "$fs_image" "$QP_STATE" ||
		qp_die "cannot make the loop file system (FS=host runs without)"
	fs_desc="a fresh ext4 with journal on a loop device"
	;;
host) fs_desc="$(stat -f -c %T "$QP_STATE") under /tmp as it is" ;;
*) qp_die "FS must be loop or host" ;;
esac

now() { printf '%s\n' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | grep . | sort -g | awk '{ v[NR] = $1 }
	END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
	      else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# envs N: the settings of every daemon (MODE=relay adds a cluster secret).
envs() {
	printf '%s\n' NODE_NUMBER="$1" KEYSTORE_KDF=light LAUNCH=no \
		LOG_LEVEL=warn "PATH=$PATH"
	[ "$MODE" = relay ] && printf '%s\n' CLUSTER_SECRET=convergence-bench-secret
	return 0
}

# identities N: every node's identity, made beforehand, 16 at a time.
identities() {
	local n=$1 i
	for ((i = 0; i < n; i++)); do
		mkdir -p "$(qp_dir "$i")" && chmod 0700 "$(qp_dir "$i")"
		qp_exec "$i" env DATA_DIR="$(qp_dir "$i")" NODE_ORDINAL="$i" \
			NODE_IP="$(qp_ip "$i")" KEYSTORE_KDF=light "$QP_PEERD" \
			identity >/dev/null 2>&1 &
		[ $((i % 16)) = 15 ] && wait
	done
	wait
}

# stop N: every daemon ended, rendered files removed (identities kept).
stop() {
	local n=$1 i
	for ((i = 0; i < n; i++)); do qp_kill_ns "$i" TERM; done
	for ((i = 0; i < n; i++)); do
		qp_wait 30 qp_ns_empty "$i" || qp_kill_ns "$i" KILL
	done
	for ((i = 0; i < n; i++)); do
		(cd "$(qp_dir "$i")" && rm -f dd/static-nodes.json \
			dd/permissioned-nodes.json genesis.json tm.conf \
			tessera-config.json)
	done
}

# wait_written N: polls every 200 ms (the figure comes from the files'
# times, not from this loop); fails after LIMIT s.
wait_written() {
	local end=$((SECONDS + LIMIT))
	until qp_all_written "$1"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# last_write N: the newest change time (ctime) among every node's shared
# files: the rename that put the last of them in place, after its fsync
# (the mtime would be earlier: the temp file's write). One stat for all.
last_write() {
	local i f files=()
	for ((i = 0; i < $1; i++)); do
		for f in "${QP_SHARED_FILES[@]}"; do files+=("$(qp_dir "$i")/$f"); done
	done
	stat -c %.9Z "${files[@]}" | sort -g | tail -n 1
}

start_range() {
	local from=$1 to=$2 n=$3 i e
	mapfile -t e < <(envs "$n")
	for ((i = from; i < to; i++)); do qp_start "$i" "${e[@]}"; done
}

count_written() {
	local i c=0
	for ((i = 0; i < $1; i++)); do qp_written "$i" && c=$((c + 1)); done
	echo "$c"
}

# rss_of I: VmRSS, and from smaps_rollup the proportional share (PSS:
# shared library pages split among the processes mapping them) and the
# private dirty pages (the daemon's own memory), of node I's daemon.
# Read 2 s after the run: a daemon gives freed heap back to the kernel
# (malloc_trim) 1 s after it has written its configs; this is what it
# keeps from then on.
rss_of() {
	local pid
	sleep 2
	pid=$(qp_pid "$1") || { echo "-"; return; }
	awk '/^VmRSS/ { printf "VmRSS %s kB", $2 }' "/proc/$pid/status"
	awk '/^Pss:/ { printf ", PSS %s kB", $2 }
	     /^Private_Dirty:/ { printf ", private dirty %s kB", $2 }' \
		"/proc/$pid/smaps_rollup" 2>/dev/null
	echo
}

# floor: VmRSS of a program that only links the daemon's libraries and
# makes one libcurl transfer (bench/rss-floor.c), before and after it.
floor() {
	local bin=$QP_STATE/rss-floor out http=(-lcurl -lmicrohttpd)
	[ "$LIBS" = lean ] && http=(-I"$lean_prefix/include"
		"$lean_prefix/lib/libcurl.a" "$lean_prefix/lib/libcares.a"
		"$lean_prefix/lib/libmicrohttpd.a")
	cc -O2 -o "$bin" "$root/bench/rss-floor.c" "${http[@]}" \
		-lsodium -lsecp256k1 -lcjson 2>/dev/null ||
		{ echo "(cannot build bench/rss-floor.c)"; return; }
	out=$("$bin") || { echo "-"; return; }
	set -- $out
	printf 'libraries alone: VmRSS %s kB at start, %s kB after one transfer\n' "$1" "$2"
}

# cpu_of N: CPU seconds (user + system) the N daemons used, summed.
cpu_of() {
	local i pid t=0 st
	for ((i = 0; i < $1; i++)); do
		pid=$(qp_pid "$i") || continue
		read -r -a st <"/proc/$pid/stat"
		t=$((t + st[13] + st[14]))
	done
	awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# (a) for one N: median seconds from opening the gate on N daemons
# (all exec'ed at once) to the last shared file written on any of them.
together() {
	local n=$1 r t0 t1 runs=() cpu=()
	for ((r = 0; r < RUNS; r++)); do
		stop "$n"
		qp_gate_open || qp_die "cannot make the start gate"
		start_range 0 "$n" "$n"
		qp_gate_wait "$n"
		t0=$(now)
		qp_gate_go
		if wait_written "$n"; then
			t1=$(last_write "$n")
			runs+=("$(elapsed "$t0" "$t1")")
			cpu+=("$(cpu_of "$n")")
		else
			runs+=("timeout($(count_written "$n")/$n)")
			converged=no
			break
		fi
	done
	# shellcheck disable=SC2046 # the figures are words on purpose
	printf '(a) %-6s N=%-4s all written %s s after starting them together (median; runs: %s; CPU s of all daemons: %s)\n' \
		"$MODE" "$n" "$(median $(printf '%s\n' "${runs[@]}" | grep -v timeout))" \
		"${runs[*]}" "${cpu[*]}"
}

# (b) for N: median seconds from starting the last daemon (the other N-1
# polling it for a while already) to the last shared file written.
last_one() {
	local n=$1 r t0 t1 runs=() i
	for ((r = 0; r < RUNS; r++)); do
		stop "$n"
		start_range 0 $((n - 1)) "$n"
		for ((i = 0; i < n - 1; i++)); do
			qp_wait 60 sh -c "[ \"\$(ip netns exec $(qp_ns "$i") curl -s -o /dev/null -w '%{http_code}' http://$(qp_host "$i")/healthz)\" = 200 ]"
		done
		# Let the others reach their backoff cap polling the missing one.
		sleep 3
		qp_gate_open || qp_die "cannot make the start gate"
		start_range $((n - 1)) "$n" "$n"
		qp_gate_wait "$n" $((n - 1))
		t0=$(now)
		qp_gate_go
		if wait_written "$n"; then
			t1=$(last_write "$n")
			runs+=("$(elapsed "$t0" "$t1")")
		else
			runs+=("timeout($(count_written "$n")/$n)")
			converged=no
			break
		fi
	done
	# shellcheck disable=SC2046
	printf '(b) %-6s N=%-4s all written %s s after starting the last one (median; runs: %s)\n' \
		"$MODE" "$n" "$(median $(printf '%s\n' "${runs[@]}" | grep -v timeout))" "${runs[*]}"
}

http_load() {
	local out rps p99
	command -v wrk >/dev/null || {
		echo "(d) wrk is not installed"
		return
	}
	out=$(ip netns exec "$(qp_ns 1)" wrk -t2 -c64 -d"${WRK_SECONDS}s" \
		--latency "http://$(qp_host 0)/env.json" 2>&1)
	rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ { print $2 }')
	p99=$(printf '%s\n' "$out" | awk '$1 == "99%" { print $2 }')
	printf '(d) GET /env.json, 64 connections, %s s: %s requests/s, p99 %s\n' \
		"$WRK_SECONDS" "${rps:--}" "${p99:--}"
	printf '%s\n' "$out" | grep -Eq 'Non-2xx|Socket errors' &&
		printf '%s\n' "$out" | grep -E 'Non-2xx|Socket errors' | sed 's/^/    /'
}

printf 'quorum-peerd convergence, %s CPUs, KEYSTORE_KDF=light, LAUNCH=no; modes: %s\n' \
	"$(nproc)" "$MODES"
printf 'build: %s (%s); data dirs: %s\n' "$LIBS" "$QP_PEERD" "$fs_desc"
largest=0
for n in $SIZES; do [ "$n" -gt "$largest" ] && largest=$n; done
for n in $SIZES; do
	qp_all_down
	rm -rf "${QP_STATE:?}"/*
	qp_net_up "$n" || qp_die "cannot create $n namespaces"
	identities "$n"
	for MODE in $MODES; do
		converged=yes
		together "$n"
		if [ "$n" = 50 ]; then
			last_one 50
			printf '(c) %-6s N=50   VmRSS of quorum-0 %s: %s\n' "$MODE" \
				"$([ "$converged" = yes ] && echo after convergence ||
					echo "(NOT converged)")" "$(rss_of 0)"
			[ "$MODE" = direct ] && printf '(c)        %s\n' "$(floor)"
			[ "$MODE" = direct ] && http_load
		elif [ "$n" = "$largest" ]; then
			printf '(c) %-6s N=%-4s VmRSS of quorum-0 %s: %s\n' "$MODE" "$n" \
				"$([ "$converged" = yes ] && echo after convergence ||
					echo "(NOT converged)")" "$(rss_of 0)"
		fi
		stop "$n"
	done
done
