#!/usr/bin/env bash
# Membership benchmark on network namespaces (root), with the real geth.
# Prints figures only (no pass/fail on time). Two modes, CONSENSUS=raft or
# CONSENSUS=istanbul; unset: raft, then istanbul (RUNS each). Raft's
# target: 3 -> 4 in <= 5 s; IBFT has none.
#
# Raft: each run is a fresh network: three raft nodes (NODE_NUMBER=3,
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
# IBFT (CONSENSUS=istanbul): four daemons with NODE_NUMBER=4 form (every
# geth lists 4 validators and is past block 0; the block period is what
# the daemon gives geth, --istanbul.blockperiod 5 on Quorum 2.7.0, and
# each run prints it), then quorum-4 starts with NODE_NUMBER=5 and joins;
# the validators' daemons vote it in (istanbul_propose) once its chain has
# their height. From its gate opening:
#
#  (a) seconds until the joiner's geth answers eth_blockNumber over its IPC
#  (b) seconds until it has caught up: its eth_blockNumber is at least
#      quorum-0's (a validator's), asked just before
#  (c) seconds until quorum-0's istanbul_getValidators lists its address
#      (istanbul_nodeAddress over its IPC): a validator
#
# The poller also reads each new block of quorum-0 (its proposer from
# istanbul_getSignersFromBlock, and whether its coinbase/nonce carry a vote
# for the joiner: an IBFT vote travels only in a block its voter proposes),
# and stamps the daemons' log lines (permitted, geth answers, sync,
# "voting quorum-4 (...) in as a validator" per validator, "quorum-4 is now
# a validator").
#
#   bench/membership.sh                  RUNS=3 raft, then RUNS=3 istanbul
#   CONSENSUS=istanbul RUNS=1 bench/membership.sh
#   QUORUM_GETH=/opt/quorum/geth RUNS=5 bench/membership.sh
#   EMPTY_STATIC=1 CONSENSUS=raft bench/membership.sh   (an experiment, see below)
#
# QUORUM_GETH picks the geth (default ../shared/quorum/geth beside the
# repository; without one, the geth stand-in of tests/stubs is used for
# raft and the figures say so; IBFT needs the real one). PEERD=path picks
# the daemon (default: build/, built if needed). LIMIT (default 120)
# bounds every wait in seconds. GETH_ARGS reaches every node (e.g.
# "--vmodule p2p=5" to see geth's dials; none by default, so IBFT runs at
# the daemon's block period). KEEP=1
# keeps the state dir, and a raft joiner that is no voter after LIMIT gets
# SIGQUIT first (Go writes every goroutine's stack into its log).
# Experiments (raft): EMPTY_STATIC=1 starts the joiner's geth with an empty
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
BFT_N=4
case ${CONSENSUS:-} in
"") MODES="raft istanbul" ;;
raft | istanbul) MODES=$CONSENSUS ;;
*) qp_die "CONSENSUS=$CONSENSUS: raft or istanbul (unset: both)" ;;
esac

if [ -z "${PEERD:-}" ]; then
	if ! { cmake -S "$root" -B "$root/build" >/dev/null &&
		cmake --build "$root/build" -j"$(nproc)" --target quorum-peerd \
			fake-geth >/dev/null; }; then
		qp_die "cannot build quorum-peerd"
	fi
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

common=(LAUNCH=yes PRIVACY=none KEYSTORE_KDF=light
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

class Tail:
    """The whole lines written to each log since the last call."""

    def __init__(self, logs):  # {path: tag}
        self.logs = logs
        self.pos = {lg: 0 for lg in logs}
        self.part = {lg: b"" for lg in logs}

    def lines(self):
        """(tag, line) for each new whole line."""
        for lg, tag in self.logs.items():
            try:
                with open(lg, "rb") as f:
                    f.seek(self.pos[lg])
                    data = f.read()
            except OSError:
                continue
            self.pos[lg] += len(data)
            lines = (self.part[lg] + data).split(b"\n")
            self.part[lg] = lines.pop()
            for line in lines:
                yield tag, line.decode("utf-8", "replace")


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
    tail = Tail(logs)
    redial = os.environ.get("REDIAL") == "1"

    def stamp(k, now):
        got.setdefault(k, now)

    def scan(now):
        for who, s in tail.lines():
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

# ---- IBFT (CONSENSUS=istanbul) ----

def lower(v):
    return v.lower() if isinstance(v, str) else None

# bft_formed LIMIT IPC...: every geth lists len(IPC) validators and is past
# block 0; prints the lowest height.
def bft_formed(limit, socks):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        hs = []
        for sk in socks:
            v = ipc(sk, "istanbul_getValidators", ["latest"])
            h = hexint(ipc(sk, "eth_blockNumber"))
            if not isinstance(v, list) or len(v) != len(socks) or not h:
                break
            hs.append(h)
        if len(hs) == len(socks):
            print(min(hs))
            return 0
        time.sleep(0.2)
    return 1

# The log lines of each step: (whose log, name, text, how): "first" the
# first time, "all" first/count/last, "node" per member (its host name).
def bft_steps(j):
    return [
        ("joiner", "joiner took the network's genesis and record", "took the network's genesis and record", "first"),
        ("member", "permitted by a member", "a node joins the network: permitted", "all"),
        ("joiner", "joiner's geth answers (daemon's log)", "geth answers over IPC: ready", "first"),
        ("joiner", "joiner's geth starts syncing", "Block synchronisation started", "first"),
        ("joiner", "joiner's geth imports its first blocks", "Imported new chain segment", "first"),
        ("member", "voting %s (...) in as a validator (istanbul_propose)" % j, "voting %s (" % j, "node"),
        ("member", "%s is now a validator (validators' daemons)" % j, "%s is now a validator" % j, "all"),
        ("joiner", "%s is now a validator (its own daemon)" % j, "%s is now a validator" % j, "first"),
    ]

AUTH_VOTE = "0xffffffffffffffff"

# bft_watch OUT T0FILE LIMIT POLL_MS JOINER JOINER_IPC JOINER_LOG
#           NAME,IPC,LOG... (the validators; the first is asked for (b)/(c))
def bft_watch(out, t0file, limit, poll_ms, joiner, jipc, jlog, mem):
    end = time.monotonic() + limit
    steps = bft_steps(joiner)
    got = {}
    logs = {jlog: ("joiner", joiner)}
    vips, names = [], {}
    for m in mem:
        nm, sk, lg = m.split(",", 2)
        logs[lg] = ("member", nm)
        vips.append(sk)
        a = lower(ipc(sk, "istanbul_nodeAddress"))
        if a:
            names[a] = nm
    v0 = vips[0]
    v0name = mem[0].split(",", 1)[0]
    seen = {}
    tail = Tail(logs)
    blocks = []          # (number, seen at, proposer, coinbase, nonce)
    last = None
    jaddr = None

    def stamp(k, now):
        got.setdefault(k, now)

    def scan(now):
        for (who, nm), s in tail.lines():
            for w, name, pat, how in steps:
                if w == who and pat in s:
                    key = "%s [%s]" % (name, nm) if how == "node" else name
                    seen.setdefault(key, []).append(now)

    def read_blocks(hl, now):
        nonlocal last
        if last is None:
            last = hl
        while last < hl:
            last += 1
            bh = hex(last)
            blk = ipc(v0, "eth_getBlockByNumber", [bh, False]) or {}
            sg = ipc(v0, "istanbul_getSignersFromBlock", [bh]) or {}
            # (Quorum 2.7.0 spells its keys "Author", "Committers")
            blocks.append((last, now, lower(sg.get("Author", sg.get("author"))),
                           lower(blk.get("miner")), lower(blk.get("nonce"))))

    npeers = 0
    while time.monotonic() < end:
        now = time.time_ns()
        scan(now)
        hl = hexint(ipc(v0, "eth_blockNumber"))
        hj = hexint(ipc(jipc, "eth_blockNumber"))
        if hj is not None:
            stamp("a", now)
            if jaddr is None:
                jaddr = lower(ipc(jipc, "istanbul_nodeAddress"))
            if hl is not None and hj >= hl:
                stamp("b", now)
            if npeers < len(vips):
                p = hexint(ipc(jipc, "net_peerCount")) or 0
                while npeers < p:
                    npeers += 1
                    seen.setdefault("joiner's geth has %d peer%s" % (
                        npeers, "s" if npeers > 1 else ""), [now])
        if hl is not None:
            read_blocks(hl, now)
        if jaddr:
            vals = ipc(v0, "istanbul_getValidators", ["latest"])
            if isinstance(vals, list) and jaddr in [lower(x) for x in vals]:
                stamp("c", now)
                break
        time.sleep(poll_ms / 1000.0)
    # The daemons log "is now a validator" at their next tick (1 s): a
    # little longer for those lines.
    grace = min(end, time.monotonic() + 3) if "c" in got else 0
    want = "%s is now a validator" % joiner
    while time.monotonic() < grace:
        scan(time.time_ns())
        if sum(len(v) for k, v in seen.items() if k.startswith(want)) >= len(logs):
            break
        time.sleep(0.1)
    scan(time.time_ns())
    # The block that made it a validator, if the loop ended before seeing it.
    if "c" in got:
        hl = hexint(ipc(v0, "eth_blockNumber"))
        if hl is not None:
            read_blocks(hl, got["c"])
    with open(t0file) as f:
        t0 = int(f.read().strip())
    rel = lambda v: (v - t0) / 1e9
    with open(out, "w") as f:
        for k in ("a", "b", "c"):
            f.write("%s %s\n" % (k, "-" if k not in got else "%.2f" % rel(got[k])))
        if jaddr:
            f.write("addr %s\n" % jaddr)
        rows = []
        for name, ts in seen.items():
            rows.append((rel(min(ts)), rel(max(ts)), len(ts), name))
        need = len(names) // 2 + 1
        voters = set()
        for num, ts, author, miner, nonce in blocks:
            who = names.get(author, author or "?")
            if jaddr and miner == jaddr and nonce == AUTH_VOTE:
                voters.add(author)
                what = "with its vote for %s (%d of the %d needed)" % (
                    joiner, len(voters), need)
            elif miner and int(miner, 16) != 0:
                what = "with a vote for %s" % miner
            else:
                what = "no vote in it"
            rows.append((rel(ts), rel(ts), 1,
                         "block %d on %s, proposed by %s, %s" % (
                             num, v0name, who, what)))
        for r in sorted(rows):
            f.write("step %.2f %.2f %d %s\n" % r)
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
if cmd == "bft_formed":
    sys.exit(bft_formed(float(sys.argv[2]), sys.argv[3:]))
if cmd == "bft_watch":
    a = sys.argv[2:]
    sys.exit(bft_watch(a[0], a[1], float(a[2]), float(a[3]), a[4], a[5], a[6],
                       a[7:]))
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
		qp_start "$i" "${common[@]}" CONSENSUS=raft NODE_NUMBER=$N ||
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
	qp_start 3 "${common[@]}" CONSENSUS=raft NODE_NUMBER=4 || qp_die "cannot start quorum-3"
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
	print_run
	qp_all_down
}

# print_run: the steps of the run just measured, its figures and its
# RESULT line (read by run_mode), from $QP_STATE/out.
print_run() {
	awk '$1 == "step" {
		printf "  %6.2f s  %s", $2, substr($0, index($0, $5))
		if ($4 > 1) printf " (x%d, last at %.2f s)", $4, $3
		printf "\n" }' "$QP_STATE/out"
	awk '$1 == "a" {a=$2} $1 == "b" {b=$2} $1 == "c" {c=$2}
		END {
		printf "  (a) %s s  (b) %s s  (c) %s s\n", a, b, c
		printf "RESULT %s %s %s\n", a, b, c }' "$QP_STATE/out"
}

# bft_period: the block period quorum-0's geth runs with (its command line).
bft_period() {
	local p a prev=
	for p in $(ip netns pids "$(qp_ns 0)" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = geth ] || continue
		for a in $(tr '\0' ' ' <"/proc/$p/cmdline"); do
			if [ "$prev" = --istanbul.blockperiod ]; then
				printf '%s s (geth runs with --istanbul.blockperiod %s)' "$a" "$a"
				return
			fi
			case $a in --istanbul.blockperiod=*)
				printf '%s s (geth runs with %s)' "${a#*=}" "$a"
				return ;;
			esac
			prev=$a
		done
		printf "geth's own default (no --istanbul.blockperiod)"
		return
	done
	printf 'unknown (no geth in %s)' "$(qp_ns 0)"
}

# one_run_istanbul K: a fresh IBFT network of 4, then quorum-4 joins;
# prints the figures and the steps, and "RESULT a b c" last.
one_run_istanbul() {
	local k=$1 i d t0 w h j=$BFT_N period
	local socks=() mem=()
	QP_STATE=$base/ibft-run$k
	mkdir -p "$QP_STATE/logs" "$QP_STATE/pids"
	qp_net_up $((BFT_N + 1)) || qp_die "cannot create the network"
	for ((i = 0; i < BFT_N; i++)); do
		qp_start "$i" "${common[@]}" CONSENSUS=istanbul NODE_NUMBER=$BFT_N ||
			qp_die "cannot start quorum-$i"
		socks+=("$(qp_dir "$i")/dd/geth.ipc")
		mem+=("$(qp_host "$i"),$(qp_dir "$i")/dd/geth.ipc,$(qp_log "$i")")
	done
	h=$("$QP_PY" "$py" bft_formed "$LIMIT" "${socks[@]}") || {
		echo "run $k: the IBFT network of $BFT_N did not form (4 validators, past block 0) in $LIMIT s (logs: $QP_STATE/logs)"
		echo "RESULT - - -"
		qp_all_down
		return
	}
	period=$(bft_period)
	d=$(qp_dir "$j")
	mkdir -p "$d" && chmod 0700 "$d"
	KEYSTORE_KDF=light "$PEERD" identity --data-dir "$d" >/dev/null 2>&1 ||
		qp_die "cannot make $(qp_host "$j")'s identity"
	qp_gate_open || qp_die "cannot make the gate"
	qp_start "$j" "${common[@]}" CONSENSUS=istanbul NODE_NUMBER=$((BFT_N + 1)) ||
		qp_die "cannot start $(qp_host "$j")"
	qp_gate_wait $((j + 1)) "$j"
	"$QP_PY" "$py" bft_watch "$QP_STATE/out" "$QP_STATE/t0" "$LIMIT" \
		"$POLL_MS" "$(qp_host "$j")" "$d/dd/geth.ipc" "$(qp_log "$j")" \
		"${mem[@]}" 9>&- &
	w=$!
	t0=$(date +%s%N)
	qp_gate_go
	printf '%s\n' "$t0" >"$QP_STATE/t0"
	wait "$w"
	printf 'run %d: chain at block %s before the join; block period %s\n' \
		"$k" "$h" "$period"
	awk '$1 == "addr" { printf "  %s is %s\n", j, $2 }' j="$(qp_host "$j")" \
		"$QP_STATE/out"
	print_run
	qp_all_down
}

# run_mode MODE: RUNS fresh networks of that mode, then the medians.
run_mode() {
	local mode=$1 k line a b c
	local A=() B=() C=()
	if [ "$mode" = istanbul ]; then
		if [ "$stand_in" = yes ]; then
			echo "membership benchmark: IBFT needs the real geth (the stand-in's validators never change): skipped"
			return
		fi
		printf 'membership benchmark: IBFT, %d validators + 1 joiner, with %s, %s fresh networks (no target)\n' \
			"$BFT_N" "$which_geth" "$RUNS"
	else
		printf 'membership benchmark: raft 3 -> 4 with %s, %s fresh networks (target: <= 5 s to (c))\n' \
			"$which_geth" "$RUNS"
	fi
	for ((k = 1; k <= RUNS; k++)); do
		while IFS= read -r line; do
			case $line in
			RESULT\ *)
				read -r _ a b c <<<"$line"
				A+=("$a") B+=("$b") C+=("$c")
				;;
			*) printf '%s\n' "$line" ;;
			esac
		done < <(if [ "$mode" = istanbul ]; then one_run_istanbul "$k"; else one_run "$k"; fi)
	done
	if [ "$mode" = istanbul ]; then
		printf '(a) joiner start -> its geth answers              median %s s  [%s]\n' \
			"$(printf '%s\n' "${A[@]}" | median)" "${A[*]}"
		printf '(b) joiner start -> caught up (height >= quorum-0) median %s s  [%s]\n' \
			"$(printf '%s\n' "${B[@]}" | median)" "${B[*]}"
		printf '(c) joiner start -> validator (getValidators)     median %s s  [%s]\n' \
			"$(printf '%s\n' "${C[@]}" | median)" "${C[*]}"
		return
	fi
	printf '(a) joiner start -> its geth answers           median %s s  [%s]\n' \
		"$(printf '%s\n' "${A[@]}" | median)" "${A[*]}"
	printf '(b) joiner start -> learner in raft_cluster    median %s s  [%s]\n' \
		"$(printf '%s\n' "${B[@]}" | median)" "${B[*]}"
	printf '(c) joiner start -> voter with the chain       median %s s  [%s]  target <= 5 s\n' \
		"$(printf '%s\n' "${C[@]}" | median)" "${C[*]}"
}

for mode in $MODES; do
	run_mode "$mode"
done
