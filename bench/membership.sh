#!/usr/bin/env bash
# Membership benchmark on network namespaces (root), with the real geth.
# Prints figures only (no pass/fail on time). Target: raft 3 -> 4 in <= 5 s.
#
# Each run is a fresh network: three raft nodes (NODE_NUMBER=3,
# PRIVACY=none, KEYSTORE_KDF=light) form, PRE_BLOCKS transactions (default
# 10) give the chain that many blocks, then quorum-3 starts with
# NODE_NUMBER=4 (its identity made beforehand, as a fresh pod's would be in
# about 0.1 s with the light KDF) and joins. From the moment the gate it
# waits at opens (the daemon execs right after, see scripts/lib/netns.sh):
#
#  (a) seconds until the joiner's geth answers eth_blockNumber over its IPC
#  (b) seconds until the leader's raft_cluster lists the joiner as a learner
#  (c) seconds until the joiner is a voter with the chain: its raft_role is
#      verifier or minter, the leader's raft_cluster no longer calls it a
#      learner, and its eth_blockNumber equals the leader's
#
# (the joiner's geth starts only once it has its raft ID, so (b) comes
# before (a)). A poller asks every POLL_MS (default 50) ms over the nodes'
# geth.ipc: eth_blockNumber, raft_leader, and raft_cluster of the leader
# only (raft_role and raft_cluster on another node can deadlock Quorum
# 2.7.0's raft loop, see bench/README.md); it also stamps, as they are
# written, the log lines of each step (permitted by each member, added as
# learner, ID learned by the joiner, geth started, snapshot applied, chain
# downloaded, promoted), printed per run so that the step that takes the
# time can be named. RUNS fresh networks (default 3): each run's figures
# and steps, then the medians.
#
#   bench/membership.sh                  RUNS=3
#   QUORUM_GETH=/opt/quorum/geth RUNS=5 bench/membership.sh
#   EMPTY_STATIC=1 bench/membership.sh   (an experiment, see below)
#
# QUORUM_GETH picks the geth (default ../shared/quorum/geth beside the
# repository; without one, the geth stand-in of tests/stubs is used and the
# figures say so). PEERD=path picks the daemon (default: build/, built if
# needed). LIMIT (default 120) bounds every wait in seconds. GETH_ARGS
# reaches every node (e.g. "--vmodule p2p=5" to see geth's dials). KEEP=1
# keeps the state dir, and a joiner that is no voter after LIMIT gets
# SIGQUIT first (Go writes every goroutine's stack into its log).
# Experiments: EMPTY_STATIC=1 starts the joiner's geth with an empty
# static-nodes.json (what the daemon itself does now: a no-op since);
# REDIAL=1 has the poller
# drop and re-add each member as the joiner's peer (admin_removePeer,
# admin_addPeer) once its raft snapshot is applied. Namespaces qpm-<i> on
# br-qpm in 10.220.0.0/16 (QP_NS, QP_BR, QP_NET pick others), all removed
# on exit.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
QP_NS=${QP_NS:-qpm-}
QP_BR=${QP_BR:-br-qpm}
QP_NET=${QP_NET:-10.220}
base=$(mktemp -d /tmp/qpm.XXXXXX)
chmod 0755 "$base"
QP_STATE=$base
# shellcheck source=scripts/lib/netns.sh
. "$root/scripts/lib/netns.sh"
RUNS=${RUNS:-3}
LIMIT=${LIMIT:-120}
POLL_MS=${POLL_MS:-50}
PRE_BLOCKS=${PRE_BLOCKS:-10}
N=3

if [ -z "${PEERD:-}" ]; then
	cmake -S "$root" -B "$root/build" >/dev/null &&
		cmake --build "$root/build" -j"$(nproc)" --target quorum-peerd \
			fake-geth >/dev/null || qp_die "cannot build quorum-peerd"
	PEERD=$root/build/quorum-peerd
fi
PEERD=$(cd "$(dirname "$PEERD")" && pwd)/$(basename "$PEERD")
QP_PEERD=$PEERD
qp_need_root

geth=${QUORUM_GETH:-$root/../shared/quorum/geth}
which_geth="real geth ($geth)"
stand_in=no
if [ ! -x "$geth" ]; then
	stand_in=yes
	echo "no real geth at $geth: using the geth stand-in; the figures below are the stand-in's, not GoQuorum's"
	geth=$(dirname "$PEERD")/fake-geth
	which_geth="the geth STAND-IN (tests/stubs/fake_geth.c), not GoQuorum"
	[ -x "$geth" ] || qp_die "no geth: neither a real one nor $geth"
fi
geth=$(cd "$(dirname "$geth")" && pwd)/$(basename "$geth")

cleanup() {
	qp_all_down
	if [ "${KEEP:-0}" = 1 ]; then
		echo "state kept in $base"
	else
		rm -rf -- "$base"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# EMPTY_STATIC=1 (an experiment; the daemon now does it itself): a wrapper
# empties the joiner's static-nodes.json before its geth starts with
# --raftjoinexisting, so that geth dials nobody before the raft snapshot
# tells it its peers (see bench/README.md, Membership).
geth_bin=$geth
if [ "${EMPTY_STATIC:-0}" = 1 ]; then
	geth_bin=$base/geth-empty-static
	cat >"$geth_bin" <<WRAP
#!/bin/sh
case " \$* " in
*" --raftjoinexisting "*) printf '[]\\n' >"\$DATA_DIR/dd/static-nodes.json" ;;
esac
exec "$geth" "\$@"
WRAP
	chmod 0755 "$geth_bin"
	which_geth="$which_geth, EMPTY_STATIC=1 (the joiner's geth starts with an empty static-nodes.json)"
fi

common=(LAUNCH=yes PRIVACY=none CONSENSUS=raft KEYSTORE_KDF=light
	GETH_BIN="$geth_bin" STOP_TIMEOUT=10 LOG_LEVEL=info HTTP_PORT=80
	DISCOVERY_TIMEOUT=0 "PATH=$PATH")
[ -n "${GETH_ARGS:-}" ] && common+=("GETH_ARGS=$GETH_ARGS")
# The stand-in makes no blocks: every node reports the same fixed height.
FAKE_BLOCK=10
[ "$stand_in" = yes ] && common+=("FAKE_GETH_BLOCK=$FAKE_BLOCK")

# The helper: formed / blocks / watch (see each function).
py=$base/membership.py
cat >"$py" <<'EOF'
import json, os, socket, sys, time

# Every call goes over the nodes' geth.ipc (the stand-in serves no HTTP).
# Only raft_leader, eth_* and (on the leader alone) raft_cluster are asked:
# in Quorum 2.7.0, raft_role and raft_cluster on a node that is not the
# minter read-lock the raft state twice (NodeInfo, then isVerifierNode),
# which deadlocks geth's raft event loop if it asks for the write lock in
# between (seen here: a joiner applying its raft snapshot). The leader's
# NodeInfo takes the lock once.

def ipc(path, method, params=None, timeout=1.0):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                              "params": params or []}).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            d = s.recv(65536)
            if not d:
                break
            buf += d
        s.close()
        r = json.loads(buf)
        return r.get("result") if "error" not in r else None
    except (OSError, ValueError):
        return None

def hexint(v):
    try:
        return int(v, 16)
    except (TypeError, ValueError):
        return None

def members(record, socks):
    """node_id -> (ordinal, geth.ipc, enode) from a network.json; socks:
    the members' geth.ipc paths by ordinal."""
    with open(record) as f:
        rec = json.load(f)
    out = {}
    for m in rec["members"]:
        if m["ordinal"] < len(socks):
            out[m["node_id"]] = (m["ordinal"], socks[m["ordinal"]], m["enode"])
    return out

def leader(socks, ids):
    """The leader's geth.ipc, from raft_leader of the first member answering."""
    for sk in socks:
        lid = ipc(sk, "raft_leader")
        if lid:
            lid = lid[len("enode://"):] if lid.startswith("enode://") else lid
            m = ids.get(lid)
            return m[1] if m else None
    return None

# formed LIMIT RECORD IPC...: the leader's raft_cluster has every node,
# each a minter or verifier.
def formed(limit, record, socks):
    end = time.monotonic() + limit
    ids = None
    while time.monotonic() < end:
        try:
            ids = ids or members(record, socks)
        except (OSError, ValueError, KeyError):
            time.sleep(0.2)
            continue
        ld = leader(socks, ids)
        cl = ipc(ld, "raft_cluster") if ld else None
        if isinstance(cl, list) and len(cl) == len(socks) and \
           all(x.get("role") in ("minter", "verifier") for x in cl):
            return 0
        time.sleep(0.2)
    return 1

# blocks LIMIT K IPC...: K transactions from the first node, one block each.
def blocks(limit, k, socks):
    ip = socks[0]
    end = time.monotonic() + limit
    acct = None
    while acct is None and time.monotonic() < end:
        a = ipc(ip, "eth_accounts")
        acct = a[0] if a else None
        time.sleep(0.1)
    if acct is None:
        return 1
    for _ in range(k):
        h0 = hexint(ipc(ip, "eth_blockNumber"))
        # (refused until geth has unlocked the account, just after start)
        while h0 is None or ipc(ip, "eth_sendTransaction",
                                [{"from": acct, "to": acct, "value": "0x0"}]) is None:
            if time.monotonic() > end:
                return 1
            time.sleep(0.2)
            h0 = hexint(ipc(ip, "eth_blockNumber"))
        while hexint(ipc(ip, "eth_blockNumber")) in (None, h0):
            if time.monotonic() > end:
                return 1
            time.sleep(0.02)
    while time.monotonic() < end:
        hs = {hexint(ipc(x, "eth_blockNumber")) for x in socks}
        if len(hs) == 1 and None not in hs:
            print(hs.pop())
            return 0
        time.sleep(0.1)
    return 1

# The log lines of each step: (whose log, name, text).
STEPS = [
    ("joiner", "took the network's record and genesis", "took the network's genesis and record"),
    ("member", "permitted by a member", "a node joins the network: permitted"),
    ("member", "raft_addLearner called (coordinating daemon)", "adding a joining node as a raft learner"),
    ("member", "learner's raft ID confirmed in a member's raft_cluster", "quorum-3 is in the raft cluster: raft ID"),
    ("joiner", "joiner learned its raft ID, starts geth", "added to the raft cluster as raft ID"),
    ("joiner", "joiner's geth answers (daemon's log)", "geth answers over IPC: ready"),
    ("joiner", "joiner's geth applied the raft snapshot", "updated cluster membership"),
    ("joiner", "joiner's geth has the chain (block download done)", "Successfully extended chain"),
    ("member", "raft_promoteToPeer called (coordinating daemon)", "promoting a caught-up learner to voter"),
    ("member", "raft_promoteToPeer called (coordinating daemon)", "promoting quorum-3 (raft ID"),
]

# watch OUT T0FILE LIMIT POLL_MS NODE_ID JOINER_IPC JOINER_LOG RECORD
#       MEMBER_IPC,LOG...
# Polls until (c) or LIMIT; writes "name seconds" lines to OUT (seconds
# from the time in T0FILE, ns since the epoch).
def watch(out, t0file, limit, poll_ms, node_id, jipc, jlog, record, mem):
    end = time.monotonic() + limit
    got = {}
    logs = {jlog: "joiner"}
    mips = []
    for m in mem:
        sk, lg = m.split(",", 1)
        logs[lg] = "member"
        mips.append(sk)
    ids = members(record, mips)
    seen = {}
    pos = {lg: 0 for lg in logs}
    part = {lg: b"" for lg in logs}
    redial = os.environ.get("REDIAL") == "1"

    def stamp(k, now):
        got.setdefault(k, now)

    def scan(now):
        for lg, who in logs.items():
            try:
                with open(lg, "rb") as f:
                    f.seek(pos[lg])
                    data = f.read()
            except OSError:
                continue
            pos[lg] += len(data)
            lines = (part[lg] + data).split(b"\n")
            part[lg] = lines.pop()
            for line in lines:
                s = line.decode("utf-8", "replace")
                for w, name, pat in STEPS:
                    if w == who and pat in s:
                        seen.setdefault(name, []).append(now)

    ld = None
    while time.monotonic() < end:
        now = time.time_ns()
        scan(now)
        if ipc(jipc, "eth_blockNumber") is not None:
            stamp("a", now)
        # REDIAL=1 (an experiment): once the joiner's geth has applied the
        # raft snapshot, drop and re-add each member as its peer, which
        # clears geth's 30 s dial history for it.
        if redial and "redial" not in got and \
           "joiner's geth applied the raft snapshot" in seen:
            for nid, (_, _, enode) in ids.items():
                ipc(jipc, "admin_removePeer", [enode])
                ipc(jipc, "admin_addPeer", [enode])
            stamp("redial", time.time_ns())
        if ld is None or "b" in got:
            ld = leader(mips, ids)
        cl = ipc(ld, "raft_cluster") if ld else None
        me = [x for x in cl or [] if isinstance(x, dict) and x.get("nodeId") == node_id]
        if me:
            stamp("in_cluster", now)
            role = me[0].get("role")
            if role == "learner":
                stamp("b", now)
            elif role in ("verifier", "minter"):
                hl = hexint(ipc(ld, "eth_blockNumber"))
                hj = hexint(ipc(jipc, "eth_blockNumber"))
                if hl is not None and hl == hj and \
                   ipc(jipc, "raft_role") in ("verifier", "minter"):
                    stamp("c", now)
                    break
        time.sleep(poll_ms / 1000.0)
    scan(time.time_ns())
    with open(t0file) as f:
        t0 = int(f.read().strip())
    rel = lambda v: (v - t0) / 1e9
    with open(out, "w") as f:
        for k in ("a", "b", "in_cluster", "c"):
            f.write("%s %s\n" % (k, "-" if k not in got else "%.2f" % rel(got[k])))
        steps = []
        for name in dict.fromkeys(n for _, n, _ in STEPS):
            if name in seen:
                ts = seen[name]
                steps.append((rel(min(ts)), rel(max(ts)), len(ts), name))
        if "redial" in got:
            steps.append((rel(got["redial"]), rel(got["redial"]), 1,
                          "REDIAL: admin_removePeer + admin_addPeer of each member on the joiner"))
        for s in sorted(steps):
            f.write("step %.2f %.2f %d %s\n" % s)
    return 0

cmd = sys.argv[1]
if cmd == "formed":
    sys.exit(formed(float(sys.argv[2]), sys.argv[3], sys.argv[4:]))
if cmd == "blocks":
    sys.exit(blocks(float(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]))
if cmd == "watch":
    a = sys.argv[2:]
    sys.exit(watch(a[0], a[1], float(a[2]), float(a[3]), a[4], a[5], a[6],
                   a[7], a[8:]))
sys.exit(2)
EOF

median() {
	sort -n | awk '$1 != "-" {a[++n]=$1} END {if (n) print a[int((n+1)/2)]; else print "-"}'
}

# one_run K: a fresh network of 3, then quorum-3 joins; prints the figures
# and the steps, and "RESULT a b c" last.
one_run() {
	local k=$1 i d nid t0 w h
	QP_STATE=$base/run$k
	mkdir -p "$QP_STATE/logs" "$QP_STATE/pids"
	qp_net_up 4 || qp_die "cannot create the network"
	for ((i = 0; i < N; i++)); do
		qp_start "$i" "${common[@]}" NODE_NUMBER=$N ||
			qp_die "cannot start quorum-$i"
	done
	"$QP_PY" "$py" formed "$LIMIT" "$(qp_dir 0)/network.json" \
		"$(qp_dir 0)/dd/geth.ipc" "$(qp_dir 1)/dd/geth.ipc" \
		"$(qp_dir 2)/dd/geth.ipc" || {
		echo "run $k: the raft network of 3 did not form in $LIMIT s (logs: $QP_STATE/logs)"
		echo "RESULT - - -"
		qp_all_down
		return
	}
	if [ "$stand_in" = yes ]; then
		h="$FAKE_BLOCK (the stand-in's fixed height)"
	else h=$("$QP_PY" "$py" blocks "$LIMIT" "$PRE_BLOCKS" \
		"$(qp_dir 0)/dd/geth.ipc" "$(qp_dir 1)/dd/geth.ipc" \
		"$(qp_dir 2)/dd/geth.ipc"); fi || {
		echo "run $k: could not make $PRE_BLOCKS blocks"
		echo "RESULT - - -"
		qp_all_down
		return
	}
	d=$(qp_dir 3)
	mkdir -p "$d" && chmod 0700 "$d"
	nid=$(KEYSTORE_KDF=light "$PEERD" identity --data-dir "$d" 2>/dev/null |
		"$QP_PY" -c 'import json,sys; print(json.load(sys.stdin)["node_id"])') ||
		qp_die "cannot make quorum-3's identity"
	nid=${nid#0x}
	qp_gate_open || qp_die "cannot make the gate"
	qp_start 3 "${common[@]}" NODE_NUMBER=4 || qp_die "cannot start quorum-3"
	qp_gate_wait 4 3
	"$QP_PY" "$py" watch "$QP_STATE/out" "$QP_STATE/t0" "$LIMIT" "$POLL_MS" \
		"$nid" "$d/dd/geth.ipc" "$(qp_log 3)" "$(qp_dir 0)/network.json" \
		"$(qp_dir 0)/dd/geth.ipc,$(qp_log 0)" \
		"$(qp_dir 1)/dd/geth.ipc,$(qp_log 1)" \
		"$(qp_dir 2)/dd/geth.ipc,$(qp_log 2)" 9>&- &
	w=$!
	t0=$(date +%s%N)
	qp_gate_go
	printf '%s\n' "$t0" >"$QP_STATE/t0"
	wait "$w"
	printf 'run %d: chain at block %s before the join\n' "$k" "$h"
	if grep -q '^c -' "$QP_STATE/out" &&
		grep -q 'adding new raft peer' "$(qp_log 3)" &&
		! grep -q 'updated cluster membership' "$(qp_log 3)"; then
		echo "  the joiner's geth never finished applying its raft snapshot: its raft loop is stuck (bench/README.md, Membership)"
	fi
	if [ "${KEEP:-0}" = 1 ] && grep -q '^c -' "$QP_STATE/out"; then
		# No voter in time: Go prints every goroutine's stack on SIGQUIT,
		# into the joiner's log (kept), to see where its geth waits.
		local p
		for p in $(ip netns pids "$(qp_ns 3)" 2>/dev/null); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = geth ] && kill -QUIT "$p"
		done
		sleep 2
		echo "  no voter in $LIMIT s: the joiner's geth got SIGQUIT (goroutine stacks in $(qp_log 3))"
	fi
	awk '$1 == "step" {
		printf "  %6.2f s  %s", $2, substr($0, index($0, $5))
		if ($4 > 1) printf " (x%d, last at %.2f s)", $4, $3
		printf "\n" }' "$QP_STATE/out"
	awk '$1 == "a" {a=$2} $1 == "b" {b=$2} $1 == "c" {c=$2}
		END {
		printf "  (a) %s s  (b) %s s  (c) %s s\n", a, b, c
		printf "RESULT %s %s %s\n", a, b, c }' "$QP_STATE/out"
	qp_all_down
}

printf 'membership benchmark: raft 3 -> 4 with %s, %s fresh networks (target: <= 5 s to (c))\n' \
	"$which_geth" "$RUNS"
A=() B=() C=()
for ((k = 1; k <= RUNS; k++)); do
	while IFS= read -r line; do
		case $line in
		RESULT\ *)
			read -r _ a b c <<<"$line"
			A+=("$a") B+=("$b") C+=("$c")
			;;
		*) printf '%s\n' "$line" ;;
		esac
	done < <(one_run "$k")
done
printf '(a) joiner start -> its geth answers           median %s s  [%s]\n' \
	"$(printf '%s\n' "${A[@]}" | median)" "${A[*]}"
printf '(b) joiner start -> learner in raft_cluster    median %s s  [%s]\n' \
	"$(printf '%s\n' "${B[@]}" | median)" "${B[*]}"
printf '(c) joiner start -> voter with the chain       median %s s  [%s]  target <= 5 s\n' \
	"$(printf '%s\n' "${C[@]}" | median)" "${C[*]}"
