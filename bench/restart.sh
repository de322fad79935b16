#!/usr/bin/env bash
# Restart benchmark on network namespaces (root), with the real geth.
# Prints figures only (no pass/fail on time):
#
#  (r1) milliseconds from a formed node's daemon starting to geth's exec,
#       every peer up
#  (r2) the same with every peer down
#  (r3) milliseconds from geth first answering over IPC to /readyz 200
#
# A network of N (default 3) raft nodes forms once, with the real geth
# (QUORUM_GETH, default ../shared/quorum/geth beside the repo; the geth
# stand-in of tests/stubs if there is none, and the figures say so),
# PRIVACY=none and the standard keystore KDF (sealed at the first start, as
# on any node). Then node 0 is stopped and started RUNS times (default 5)
# with its peers up, and RUNS times with them down. Its start is the moment
# the gate it waits at opens (see scripts/lib/netns.sh: the daemon execs
# right after); geth's exec is the first line a one-line sh wrapper
# (GETH_BIN) writes before it execs geth: the wrapper's own start (a dash
# process, about 1 ms) is counted in. (r3) is measured by a poller that
# asks geth.ipc and /readyz every millisecond.
#
#   bench/restart.sh                  N=3 RUNS=5
#   QUORUM_GETH=/opt/quorum/geth RUNS=9 bench/restart.sh
#
# PEERD=path picks the binary (default: build/, built if needed).
# Namespaces qpr-<i> on br-qpr in 10.217.0.0/16, all removed on exit.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
QP_NS=qpr-
QP_BR=br-qpr
QP_NET=10.217
QP_STATE=$(mktemp -d /tmp/qpr.XXXXXX)
chmod 0755 "$QP_STATE"
# shellcheck source=scripts/lib/netns.sh
. "$root/scripts/lib/netns.sh"
N=${N:-3}
RUNS=${RUNS:-5}
LIMIT=${LIMIT:-60}

if [ -z "${PEERD:-}" ]; then
	cmake -S "$root" -B "$root/build" >/dev/null &&
		cmake --build "$root/build" -j"$(nproc)" --target quorum-peerd \
			fake-geth >/dev/null || qp_die "cannot build quorum-peerd"
	PEERD=$root/build/quorum-peerd
fi
QP_PEERD=$PEERD
qp_need_root

geth=${QUORUM_GETH:-$root/../shared/quorum/geth}
which_geth="real geth ($geth)"
if [ ! -x "$geth" ]; then
	geth=$(dirname "$PEERD")/fake-geth
	which_geth="the geth stand-in (no real geth at ${QUORUM_GETH:-../shared/quorum/geth})"
	[ -x "$geth" ] || qp_die "no geth: neither a real one nor $geth"
fi
geth=$(cd "$(dirname "$geth")" && pwd)/$(basename "$geth")

cleanup() {
	qp_all_down
	rm -rf -- "$QP_STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The wrapper: one line per exec of geth proper (not `version`/`init`),
# with the time, then geth itself.
wrapper=$QP_STATE/geth
cat >"$wrapper" <<EOF
#!/bin/sh
case " \$* " in *" version "*|*" init "*) ;; *) date +%s%N >>"\$DATA_DIR/geth-exec" ;; esac
exec "$geth" "\$@"
EOF
chmod 0755 "$wrapper"

common=(NODE_NUMBER="$N" LAUNCH=yes PRIVACY=none CONSENSUS=raft
	GETH_BIN="$wrapper" STOP_TIMEOUT=10 LOG_LEVEL=info "PATH=$PATH")

stop() {
	local pid
	pid=$(qp_pid "$1") || return 0
	kill -TERM "$pid"
	qp_wait 40 qp_ns_empty "$1" || qp_die "quorum-$1 did not stop"
}

ready() { [ "$(qp_code "$1" /readyz)" = 200 ]; }
all_ready() {
	local i
	for ((i = 0; i < N; i++)); do ready "$i" || return 1; done
}

# The poller of (r3): ms from geth.ipc's first answer to /readyz 200.
poller=$QP_STATE/poll.py
cat >"$poller" <<'EOF'
import socket, sys, time
ipc, host, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
end = time.monotonic() + limit
t_ans = t_ready = None
def geth_answers():
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(0.5)
        s.connect(ipc)
        s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}\n')
        ok = b'"result"' in s.recv(4096)
        s.close()
        return ok
    except OSError:
        return False
def ready():
    try:
        s = socket.create_connection((host, 80), timeout=0.5)
        s.sendall(b"GET /readyz HTTP/1.0\r\nHost: x\r\n\r\n")
        ok = s.recv(64).startswith(b"HTTP/1.1 200") or False
        s.close()
        return ok
    except OSError:
        return False
while time.monotonic() < end and t_ready is None:
    now = time.monotonic()
    if t_ans is None and geth_answers():
        t_ans = now
    if t_ans is not None and ready():
        t_ready = time.monotonic()
    time.sleep(0.001)
print("timeout" if t_ready is None else "%.0f" % ((t_ready - t_ans) * 1000))
EOF

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }

# one_restart: stops node 0, starts it at a gate, prints "exec_ms ready_ms".
one_restart() {
	local d t0 t1 r3 poll
	d=$(qp_dir 0)
	stop 0
	rm -f "$d/geth-exec"
	qp_gate_open || qp_die "cannot make the gate"
	qp_start 0 "${common[@]}"
	qp_gate_wait 1
	# Not holding the gate open (fd 9): the daemon waits for its EOF.
	"$QP_PY" "$poller" "$d/dd/geth.ipc" "$(qp_ip 0)" "$LIMIT" \
		>"$QP_STATE/r3" 9>&- &
	poll=$!
	t0=$(date +%s%N)
	qp_gate_go
	qp_wait "$LIMIT" test -s "$d/geth-exec" || { echo "timeout -"; return; }
	t1=$(head -n 1 "$d/geth-exec")
	wait "$poll"
	r3=$(cat "$QP_STATE/r3")
	echo "$(((t1 - t0) / 1000000)) $r3"
}

qp_net_up "$N" || qp_die "cannot create the network"
for ((i = 0; i < N; i++)); do qp_start "$i" "${common[@]}"; done
qp_wait 180 all_ready || qp_die "the network did not form (logs in $QP_STATE/logs)"

printf 'restart benchmark: %s raft nodes, %s, %s runs each\n' "$N" \
	"$which_geth" "$RUNS"
for mode in up down; do
	if [ "$mode" = down ]; then
		for ((i = 1; i < N; i++)); do stop "$i"; done
	fi
	ex=() rd=()
	for ((k = 0; k < RUNS; k++)); do
		read -r e r < <(one_restart)
		ex+=("$e")
		rd+=("$r")
	done
	printf '(r%s) start -> geth exec, peers %-4s median %s ms  [%s]\n' \
		"$([ "$mode" = up ] && echo 1 || echo 2)" "$mode" \
		"$(printf '%s\n' "${ex[@]}" | median)" "${ex[*]}"
	printf '(r3) geth answers -> /readyz 200 (peers %s) median %s ms  [%s]\n' \
		"$mode" "$(printf '%s\n' "${rd[@]}" | median)" "${rd[*]}"
done
