#!/usr/bin/env bash
# Cluster tests: N quorum-peerd daemons, each in its own network namespace
# with its own host name, finding each other over HTTP as in a StatefulSet.
# Needs root, iproute2, util-linux, curl, python3.
#
#   tests/cluster/run.sh            every case
#   tests/cluster/run.sh n5 dns     only the named cases
#
# PEERD=path/quorum-peerd and BUILD=dir-with-fake-geth-and-fake-tm pick the
# binaries (default: build/, built with cmake if absent). KEEP=1 keeps the
# state dir of failed cases. Namespaces are qpt-<i> on br-qpt in
# 10.214.0.0/16 (QP_NS, QP_BR, QP_NET pick others), apart from
# scripts/local-cluster.sh's, and all are removed on exit. No case asserts
# on elapsed time; waits are generous and bounded.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/cluster
QP_NS=${QP_NS:-qpt-}
QP_BR=${QP_BR:-br-qpt}
QP_NET=${QP_NET:-10.214}
base=$(mktemp -d /tmp/qpt.XXXXXX)
chmod 0755 "$base"
QP_STATE=$base
# shellcheck source=scripts/lib/netns.sh
. "$root/scripts/lib/netns.sh"

all_cases=(n5 n64 late restart hostile secret relay dns dnsmode setup launch
	record moved movedns legacy frozen nofork nofork_relay join join2 init_killed
	raftlost join2net ibftjoin ibftshrink ibftrefuse ibftreplace
	replace_secret leadergoes)

# --- binaries ---------------------------------------------------------------
if [ -z "${PEERD:-}" ]; then
	BUILD=${BUILD:-$root/build}
	cmake -S "$root" -B "$BUILD" >/dev/null &&
		cmake --build "$BUILD" -j"$(nproc)" --target quorum-peerd \
			fake-geth fake-tm >/dev/null || {
		echo "cannot build quorum-peerd in $BUILD" >&2
		exit 1
	}
	PEERD=$BUILD/quorum-peerd
fi
BUILD=${BUILD:-$(dirname "$PEERD")}
PEERD=$(cd "$(dirname "$PEERD")" && pwd)/$(basename "$PEERD")
QP_PEERD=$PEERD
qp_need_root
[ -x "$PEERD" ] || qp_die "no quorum-peerd at $PEERD"

cleanup() {
	qp_all_down
	if [ "${KEEP:-0}" != 1 ] || [ "$failed" -eq 0 ]; then
		rm -rf -- "$base"
	fi
}
passed=0
failed=0
failed_names=()
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- helpers used inside cases (each case runs in a subshell) ---------------
die() {
	printf '    FAIL: %s\n' "$*"
	exit 1
}
note() { printf "    [%3d s] %s\n" $((SECONDS - ${t0:-0})) "$*"; }
jq_() { "$QP_PY" "$here/jcheck.py" "$@"; }

# Environment every daemon gets; cases add to it.
common_env() {
	printf '%s\n' KEYSTORE_KDF=light LOG_LEVEL=info LAUNCH=no \
		DISCOVERY_TIMEOUT=0 "PATH=$PATH"
}

# net N [ORDINAL...]: namespaces 0..N-1 but the ones given, each with a
# hosts file naming nodes 0..N-1 but the ones given.
net() { qp_net_up "$@" || die "cannot create the network"; }

# start I N [VAR=value...]
start() {
	local i=$1 n=$2 envs
	shift 2
	mapfile -t envs < <(common_env)
	qp_start "$i" "${envs[@]}" NODE_NUMBER="$n" "$@" ||
		die "cannot start node $i"
}

ready() { [ "$(qp_code "$1" /readyz)" = 200 ]; }
all_ready() {
	local i
	for ((i = 0; i < $1; i++)); do ready "$i" || return 1; done
}

# converge N [TIMEOUT]: every node wrote every shared file and is ready.
converge() {
	local n=$1 t
	t=${2:-$((90 + n))}
	qp_wait "$t" qp_all_written "$n" ||
		die "not every node wrote its configs within $t s"
	qp_wait 30 all_ready "$n" || die "not every node has /readyz 200"
}

# same_files N: the shared files are byte-identical on nodes 0..N-1.
same_files() {
	local n=$1 f i u
	for f in "${QP_SHARED_FILES[@]}"; do
		u=$(for ((i = 0; i < n; i++)); do
			sha256sum <"$(qp_dir "$i")/$f"
		done | sort -u | wc -l)
		[ "$u" = 1 ] || die "$f differs between nodes ($u versions)"
	done
	note "static-nodes, permissioned-nodes, genesis identical on $n nodes"
}

# docs N: saves every node's /env.json (fetched from another node) as
# $QP_STATE/env-<i>.json.
docs() {
	local n=$1 i
	for ((i = 0; i < n; i++)); do
		qp_curl $(((i + 1) % n)) /env.json "$i" >"$QP_STATE/env-$i.json" ||
			die "GET quorum-$i/env.json failed"
	done
}

field() { jq_ field "$2" <"$QP_STATE/env-$1.json"; }

# every_peer N: node 0's static and permissioned nodes hold exactly the N
# documents' node IDs, in ordinal order; its genesis holds every account.
every_peer() {
	local n=$1 i want got f acct d
	d=$(qp_dir 0)
	want=$(for ((i = 0; i < n; i++)); do
		printf '%s\n' "$QP_STATE/env-$i.json"
	done | xargs "$QP_PY" "$here/jcheck.py" fields node_id)
	for f in dd/static-nodes.json dd/permissioned-nodes.json; do
		got=$(jq_ enode-ids "$d/$f") || die "$f: not a list of enodes"
		[ "$got" = "$want" ] ||
			die "$f does not list the $n node IDs in ordinal order"
	done
	for acct in $(for ((i = 0; i < n; i++)); do
		printf '%s\n' "$QP_STATE/env-$i.json"
	done | xargs "$QP_PY" "$here/jcheck.py" fields account); do
		grep -qi -- "${acct#0x}" "$d/genesis.json" ||
			die "genesis.json lacks the account $acct"
	done
	note "every node's enode and account present"
}

# envsh FROM TO: TO's /env.sh, fetched in FROM's namespace and sourced by
# sh, gives TO's env.json values.
envsh() {
	local from=$1 to=$2 vals=$QP_STATE/envsh-$2.txt
	qp_exec "$from" sh -c '
		f=$(mktemp) || exit 1
		curl -fsS "http://$1/env.sh" >"$f" || exit 1
		. "$f" || exit 1
		rm -f "$f"
		printf "IP=%s\nNODE_ID=%s\nACCOUNT=%s\nHOSTNAME=%s\nORDINAL=%s\n" \
			"$IP" "$NODE_ID" "$ACCOUNT" "$HOSTNAME" "$ORDINAL"
		printf "ENODE=%s\nTM_PUB=%s\nTM_URL=%s\nP2P_PORT=%s\n" \
			"$ENODE" "$TM_PUB" "$TM_URL" "$P2P_PORT"
		printf "RAFT_PORT=%s\n" "$RAFT_PORT"' sh "$(qp_host "$to")" \
		>"$vals" || die "sourcing quorum-$to/env.sh in $(qp_ns "$from") failed"
	jq_ envsh-matches "$vals" "$QP_STATE/env-$to.json" ||
		die "quorum-$to/env.sh does not match its env.json"
	note "quorum-$to/env.sh sourced in $(qp_ns "$from") matches its env.json"
}

# peer_is I ORDINAL STATE [REASON]: node I's /status shows the peer in
# STATE with attempts > 0 and, if given, the last failure REASON.
peer_is() {
	local st state attempts reason
	st=$(qp_curl "$1" /status 2>/dev/null | jq_ peer "$2" 2>/dev/null) ||
		return 1
	read -r state attempts reason _ <<<"$st"
	[ "$state" = "$3" ] && [ "${attempts:-0}" -gt 0 ] 2>/dev/null ||
		return 1
	[ -z "${4:-}" ] || [ "$reason" = "$4" ]
}

# attempts_at_least I ORDINAL K: node I has polled the peer K times.
attempts_at_least() {
	local st state attempts reason
	st=$(qp_curl "$1" /status 2>/dev/null | jq_ peer "$2" 2>/dev/null) ||
		return 1
	read -r state attempts reason _ <<<"$st"
	[ "${attempts:-0}" -ge "$3" ] 2>/dev/null && [ "$reason" != None ]
}

nothing_written() {
	! qp_any_written "$@" || die "a node wrote configs it must not have"
}

summary() { qp_curl "$1" /status | jq_ status-summary; }

# snapshot I FILE...: checksum and mtime (ns) of node I's files.
snapshot() {
	local d
	d=$(qp_dir "$1")
	shift
	(cd "$d" && for f in "$@"; do
		[ -e "$f" ] || { echo "missing $f"; continue; }
		printf '%s %s\n' "$(sha256sum <"$f" | cut -c1-64)" \
			"$(stat -c '%y %s %a %n' "$f")"
	done)
}

# metric_sum N NAME: NAME's samples (every label set) summed over every
# node's /metrics; fails if a node has none.
metric_sum() {
	local n=$1 i t=0 v
	for ((i = 0; i < n; i++)); do
		v=$(qp_curl "$i" /metrics | awk -v m="$2" '
			$1 == m || index($1, m "{") == 1 { t += $2; seen = 1 }
			END { if (seen) print t }')
		[ -n "$v" ] || return 1
		t=$((t + v))
	done
	echo "$t"
}

# pushes N: N nodes started together without a secret need far fewer than
# N*(N-1) answered requests: a node whose document came with a peer's
# request (from where the peer's name leads) does not ask that peer.
# Failed attempts (refused while a peer still makes its identity) are not
# counted. Bounds are loose (a quarter of the documents pushed, a quarter
# of the requests spared): the split depends on timing, but asking every
# peer back gives 0 pushed and N*(N-1) answered requests.
pushes() {
	local n=$1 a e p
	a=$(metric_sum "$n" peerd_discovery_attempts_total) &&
		e=$(metric_sum "$n" peerd_discovery_errors_total) &&
		p=$(metric_sum "$n" peerd_discovery_pushed_total) ||
		die "a node's /metrics lacks a discovery counter"
	[ "$p" -ge $((n * (n - 1) / 4)) ] ||
		die "$n nodes took only $p documents from pushes (want >= $((n * (n - 1) / 4)))"
	[ $((a - e)) -le $((n * (n - 1) * 3 / 4)) ] ||
		die "$n nodes had $((a - e)) requests answered (want <= $((n * (n - 1) * 3 / 4)); every pair asking both ways: $((n * (n - 1))))"
	note "$((a - e)) requests answered ($e failed), $p documents taken from pushes, for $((n * (n - 1))) documents"
}

# --- cases ------------------------------------------------------------------
# basic N [VAR=value...]: N nodes converge; GATE=1 starts them all at the
# same instant (each waits at a barrier until all are up).
basic() {
	local n=$1 i extra=()
	shift
	extra=("$@")
	net "$n"
	[ "${GATE:-0}" = 1 ] && { qp_gate_open || die "cannot make the start gate"; }
	for ((i = 0; i < n; i++)); do start "$i" "$n" "${extra[@]}"; done
	if [ "${GATE:-0}" = 1 ]; then
		qp_gate_wait "$n" || die "not every node reached the start gate"
		qp_gate_go
		note "$n nodes started at once"
	fi
	converge "$n"
	note "converged"
	same_files "$n"
	docs "$n"
	every_peer "$n"
	for ((i = 0; i < n; i++)); do
		[ "$(summary "$i")" = "running $n $n true" ] ||
			die "quorum-$i /status: $(summary "$i"), want running $n/$n ready"
	done
	note "every /status: running, discovered $n/$n, ready"
	envsh $((n - 1 == 2 ? 0 : n - 1)) 2
	qp_curl 0 /static-nodes.json 2 | cmp -s - "$(qp_dir 2)/dd/static-nodes.json" ||
		die "quorum-2 serves a /static-nodes.json unlike its file"
	qp_curl 0 /genesis.json 2 | cmp -s - "$(qp_dir 2)/genesis.json" ||
		die "quorum-2 serves a /genesis.json unlike its file"
	note "/static-nodes.json and /genesis.json served as written"
}

case_n5() {
	basic 5 PRIVACY=tessera
	local i
	for ((i = 0; i < 5; i++)); do
		[ -s "$(qp_dir "$i")/tessera-config.json" ] ||
			die "quorum-$i has no tessera-config.json"
	done
	note "tessera-config.json on every node"
}

case_n64() {
	GATE=1 basic 64
	pushes 64
}

case_late() {
	local n=5 i t0
	net "$n"
	t0=$SECONDS
	for ((i = 0; i < n - 1; i++)); do start "$i" "$n"; done
	for ((i = 0; i < n - 1; i++)); do
		qp_wait 60 peer_is "$i" 4 waiting ||
			die "quorum-$i does not show quorum-4 waiting"
	done
	[ $((SECONDS - t0)) -ge 10 ] || sleep $((10 - (SECONDS - t0)))
	nothing_written 0 1 2 3
	for ((i = 0; i < n - 1; i++)); do
		[ "$(summary "$i")" = "discovering 4 5 false" ] ||
			die "quorum-$i /status: $(summary "$i"), want discovering 4/5"
	done
	note "after 10 s without quorum-4: 4/5 discovered, nothing written"
	start 4 "$n"
	converge "$n"
	same_files "$n"
	docs "$n"
	every_peer "$n"
}

case_restart() {
	local n=3 i pid before after keyfiles
	net "$n"
	for ((i = 0; i < n; i++)); do start "$i" "$n" PRIVACY=tessera; done
	converge "$n"
	docs "$n"
	keyfiles=(dd/geth/nodekey keys/password keys/tm.pub keys/tm.key
		"${QP_SHARED_FILES[@]}" tessera-config.json)
	mapfile -t -O ${#keyfiles[@]} keyfiles < <(cd "$(qp_dir 1)" &&
		ls dd/keystore/*)
	[ ${#keyfiles[@]} -eq 9 ] ||
		die "want one keystore file, have: $(ls "$(qp_dir 1)/dd/keystore")"
	before=$(snapshot 1 "${keyfiles[@]}")
	pid=$(qp_pid 1) || die "quorum-1 is not running"
	kill -TERM "$pid"
	qp_wait 40 qp_ns_empty 1 || die "quorum-1 did not stop on SIGTERM"
	sleep 1 # so that a rewrite would show in the mtimes on any fs
	start 1 "$n" PRIVACY=tessera
	qp_wait 60 ready 1 || die "restarted quorum-1 not ready"
	[ "$(summary 1)" = "running $n $n true" ] ||
		die "restarted quorum-1 /status: $(summary 1)"
	after=$(snapshot 1 "${keyfiles[@]}")
	if [ "$before" != "$after" ]; then
		diff <(echo "$before") <(echo "$after") | sed 's/^/    /'
		die "identity or rendered files changed across the restart"
	fi
	[ "$(ls "$(qp_dir 1)/dd/keystore" | wc -l)" = 1 ] ||
		die "a second keystore file appeared"
	qp_curl 0 /env.json 1 | cmp -s - "$QP_STATE/env-1.json" ||
		die "quorum-1 serves another env.json after the restart"
	note "identity, env.json and rendered files unchanged (sha256, mtime)"
}

case_hostile() {
	local n=5 i real4 badsig other done=$QP_STATE/hostile.done
	net "$n"
	# The documents quorum-4 and quorum-3 will serve, made beforehand
	# from the identities their daemons will load.
	for i in 3 4; do
		mkdir -p "$(qp_dir "$i")" && chmod 0700 "$(qp_dir "$i")"
		qp_exec "$i" env DATA_DIR="$(qp_dir "$i")" NODE_ORDINAL="$i" \
			NODE_NUMBER="$n" NODE_IP="$(qp_ip "$i")" KEYSTORE_KDF=light \
			"$PEERD" identity >"$QP_STATE/real-$i.json" 2>>"$(qp_log "$i")" ||
			die "quorum-peerd identity failed for quorum-$i"
	done
	real4=$(jq_ field node_id <"$QP_STATE/real-4.json")
	[ ${#real4} = 128 ] || die "no node_id in quorum-4's identity document"
	badsig=$QP_STATE/badsig.json
	"$QP_PY" - "$QP_STATE/real-4.json" "$badsig" <<-'EOF' || die "cannot forge"
		import json, sys
		raw = open(sys.argv[1]).read().strip()
		sig = json.loads(raw)["sig"]
		k = 2 if sig.startswith("0x") else 0
		k += 20
		c = "0" if sig[k] != "0" else "1"
		bad = sig[:k] + c + sig[k + 1:]
		assert raw.count(sig) == 1
		open(sys.argv[2], "w").write(raw.replace(sig, bad) + "\n")
	EOF
	other=$QP_STATE/real-3.json
	mkdir -p "$QP_STATE/logs"
	ip netns exec "$(qp_ns 4)" "$QP_PY" "$here/hostile.py" 80 $((n - 1)) \
		"$done" "$badsig" "$other" >"$QP_STATE/logs/hostile.log" 2>&1 &
	qp_wait 20 sh -c "ip netns exec $(qp_ns 4) ss -Hltn 'sport = :80' | grep -q ." ||
		die "the hostile server does not listen"
	for ((i = 0; i < n - 1; i++)); do start "$i" "$n"; done
	local end=$((SECONDS + 240))
	while [ ! -f "$done" ]; do
		nothing_written 0 1 2 3
		[ "$SECONDS" -lt "$end" ] ||
			die "the nodes did not go through every hostile stage"
		sleep 0.2
	done
	qp_wait 20 qp_ns_empty 4 || die "the hostile server did not exit"
	nothing_written 0 1 2 3
	local stage
	for stage in raw garbage big-len big-close badsig ordinal; do
		[ "$(grep -c "^$stage " "$done")" -ge $((n - 1)) ] ||
			die "stage $stage did not reach every node"
	done
	note "each node got raw, garbage, 2 oversized, bad-sig, wrong-ordinal answers; nothing written"
	local m
	m=$(qp_curl 0 /metrics) || die "no /metrics on quorum-0"
	for stage in toobig invalid; do
		printf '%s\n' "$m" | grep -Eq \
			"^peerd_discovery_errors_total\\{[^}]*reason=\"$stage\"[^}]*\\} [1-9]" ||
			die "quorum-0 /metrics counts no $stage error"
	done
	note "quorum-0 /metrics counts toobig and invalid answers"
	start 4 "$n"
	converge "$n"
	same_files "$n"
	docs "$n"
	every_peer "$n"
	[ "$(field 4 node_id)" = "$real4" ] ||
		die "quorum-4 serves another node_id than its identity's"
	grep -q "$real4" "$(qp_dir 0)/dd/static-nodes.json" ||
		die "static-nodes.json lacks quorum-4's real node_id"
	cmp -s "$QP_STATE/env-4.json" "$QP_STATE/real-4.json" ||
		die "\`quorum-peerd identity\` and the daemon sign different documents for quorum-4"
	note "converged with quorum-4's real node_id"
}

case_secret() {
	local n=3 i
	net "$n"
	start 0 "$n" CLUSTER_SECRET=alpha-secret-0123
	start 1 "$n" CLUSTER_SECRET=alpha-secret-0123
	start 2 "$n" CLUSTER_SECRET=bravo-secret-4567
	qp_wait 60 peer_is 0 1 found || die "quorum-0 did not find quorum-1"
	qp_wait 60 peer_is 1 0 found || die "quorum-1 did not find quorum-0"
	for i in "0 2" "1 2" "2 0" "2 1"; do
		set -- $i
		qp_wait 60 attempts_at_least "$1" "$2" 3 ||
			die "quorum-$1 does not show quorum-$2 refused 3 times"
		peer_is "$1" "$2" waiting invalid ||
			die "quorum-$1 /status for quorum-$2: not waiting/invalid"
	done
	nothing_written 0 1 2
	for i in 0 1 2; do
		[ "$(summary "$i" | cut -d' ' -f1)" = discovering ] ||
			die "quorum-$i is not discovering: $(summary "$i")"
		if grep -q -e alpha-secret -e bravo-secret <<<"$(qp_curl "$i" /status)" ||
			grep -q -e alpha-secret -e bravo-secret "$(qp_log "$i")"; then
			die "quorum-$i shows a cluster secret"
		fi
	done
	note "peers with another CLUSTER_SECRET refused (invalid), waiting; nothing written"
}

# relay: with a CLUSTER_SECRET, documents travel through other nodes.
# Quorum-0 and quorum-5 cannot reach each other at all (a blackhole route
# each way), so each can only learn the other from a third node's /peers.
case_relay() {
	local n=16 i via
	net "$n"
	ip -n "$(qp_ns 0)" route add blackhole "$(qp_ip 5)/32" ||
		die "cannot cut quorum-0 from quorum-5"
	ip -n "$(qp_ns 5)" route add blackhole "$(qp_ip 0)/32" ||
		die "cannot cut quorum-5 from quorum-0"
	for ((i = 0; i < n; i++)); do
		start "$i" "$n" CLUSTER_SECRET=relay-secret-0123456789
	done
	converge "$n"
	same_files "$n"
	docs "$n"
	every_peer "$n"
	via=$(qp_curl 0 /status | jq_ via 5) || die "no /status on quorum-0"
	[ "$via" != 5 ] && [ "$via" != None ] ||
		die "quorum-0 has quorum-5's document via \"$via\", want a relay"
	via=$(qp_curl 5 /status | jq_ via 0) || die "no /status on quorum-5"
	[ "$via" != 0 ] && [ "$via" != None ] ||
		die "quorum-5 has quorum-0's document via \"$via\", want a relay"
	grep -q "$(field 5 node_id)" "$(qp_dir 0)/dd/static-nodes.json" ||
		die "quorum-0's static-nodes.json lacks quorum-5"
	note "quorum-0 and quorum-5, cut from each other, know each other through relays"
	qp_curl 1 /peers | "$QP_PY" -c '
import json, sys
lines = sys.stdin.read().splitlines()
docs = [json.loads(l) for l in lines]
assert len(docs) == int(sys.argv[1]), len(docs)
assert docs[0]["ordinal"] == 1, docs[0]["ordinal"]
assert all("mac" in d for d in docs)
' "$n" || die "quorum-1 /peers is not its own then every other document"
	note "/peers: one signed, MACed document per line, its own first"
	if grep -q relay-secret <<<"$(qp_curl 1 /peers)" ||
		grep -q relay-secret "$(qp_log 1)"; then
		die "quorum-1 shows the cluster secret"
	fi
}

case_dns() {
	local n=4 i
	net "$n" 3 # no namespace and no hosts entry for quorum-3
	for ((i = 0; i < n - 1; i++)); do start "$i" "$n"; done
	for ((i = 0; i < n - 1; i++)); do
		qp_wait 60 peer_is "$i" 3 waiting dns ||
			die "quorum-$i /status: quorum-3 not waiting with a dns error"
		grep -q -v ' null$' <<<"$(qp_curl "$i" /status | jq_ peer 3)" ||
			die "quorum-$i /status: no last_error for quorum-3"
	done
	for ((i = 0; i < n - 1; i++)); do
		qp_wait 30 grep -q 'waiting for quorum-3' "$(qp_log "$i")" ||
			die "quorum-$i does not log that it waits for quorum-3"
		[ "$(summary "$i")" = "discovering 3 4 false" ] ||
			die "quorum-$i /status: $(summary "$i"), want discovering 3/4"
	done
	nothing_written 0 1 2
	note "quorum-3 unresolvable: others wait (dns, attempts > 0), nothing written"
}

case_dnsmode() {
	local n=3 i hosts
	basic "$n" ADDRESS_MODE=dns
	hosts=$(jq_ enode-hosts "$(qp_dir 0)/dd/static-nodes.json" | tr '\n' ' ')
	[ "$hosts" = "quorum-0 quorum-1 quorum-2 " ] ||
		die "ADDRESS_MODE=dns: enode hosts are \"$hosts\""
	for ((i = 0; i < n; i++)); do
		if grep -q "$QP_NET\\." "$(qp_dir "$i")/dd/static-nodes.json" \
			"$(qp_dir "$i")/dd/permissioned-nodes.json"; then
			die "quorum-$i's node lists carry IP addresses"
		fi
	done
	note "ADDRESS_MODE=dns: enode URLs carry quorum-<i>, no IPs"
}

case_setup() {
	local d=$QP_STATE/setup i ids f u
	PEERD=$PEERD KEYSTORE_KDF=light PRIVACY=tessera \
		"$root/scripts/setup.sh" 3 "$d" >"$QP_STATE/setup.log" 2>&1 ||
		{ sed 's/^/    /' "$QP_STATE/setup.log"; die "setup.sh 3 failed"; }
	for i in 0 1 2; do
		[ -s "$d/qdata-$i/dd/geth/nodekey" ] ||
			die "qdata-$i has no node key"
	done
	for f in dd/static-nodes.json genesis.json; do
		u=$(for i in 0 1 2; do sha256sum <"$d/qdata-$i/$f"; done |
			sort -u | wc -l)
		[ "$u" = 1 ] || die "$f differs between the qdata dirs"
	done
	ids=$(jq_ enode-ids "$d/qdata-0/dd/static-nodes.json" | wc -l)
	[ "$ids" = 3 ] || die "static-nodes.json has $ids entries, want 3"
	for i in 0 1 2; do
		f=$d/peers/quorum-$i.json
		grep -q "$(jq_ field node_id <"$f")" "$d/qdata-0/dd/static-nodes.json" ||
			die "static-nodes.json lacks quorum-$i"
		u=$(jq_ field account <"$f")
		grep -qi "${u#0x}" "$d/qdata-0/genesis.json" ||
			die "genesis.json lacks quorum-$i's account"
	done
	note "3 qdata dirs: identical static-nodes.json and genesis.json with all 3 identities"
	# Paths inside the TM config are the container's, not this host's.
	f=$d/qdata-1/tessera-config.json
	grep -q '"/qdata/keys/tm.key"' "$f" || die "$f: no /qdata key path"
	grep -q "unix:/qdata/tm/tm.ipc" "$f" || die "$f: no /qdata socket"
	! grep -q "$d" "$f" || die "$f carries host paths ($d)"
	note "TM config paths are the container's /qdata"
	jq_ compose "$d/docker-compose.yml" 3 || die "compose file: bad YAML"
	if command -v docker-compose >/dev/null; then
		(cd "$d" && docker-compose -f docker-compose.yml config -q) ||
			die "docker-compose config rejects the compose file"
	fi
	PEERD=$PEERD "$root/scripts/setup.sh" 3 "$d-disc" --discovery \
		>>"$QP_STATE/setup.log" 2>&1 || die "setup.sh 3 --discovery failed"
	jq_ compose "$d-disc/docker-compose.yml" 3 ||
		die "--discovery compose file: bad YAML"
	compgen -G "$d-disc/qdata*" >/dev/null && die "--discovery created data dirs"
	if command -v docker-compose >/dev/null; then
		(cd "$d-disc" && docker-compose -f docker-compose.yml config -q) ||
			die "docker-compose config rejects the --discovery file"
	fi
	note "compose files parse (YAML, docker-compose config)"
}

case_launch() {
	local n=4 i bin=$QP_STATE/bin pids=() code
	standins
	net "$n"
	for ((i = 0; i < n; i++)); do
		start "$i" "$n" LAUNCH=yes PRIVACY=tessera STOP_TIMEOUT=10 \
			"PATH=$bin:$PATH" FAKE_LOG="$QP_STATE/logs/fake-$i.log"
		pids+=("$(cat "$(qp_pidfile "$i")")")
	done
	converge "$n" 120
	for ((i = 0; i < n; i++)); do
		qp_wait 60 ready "$i" || die "quorum-$i /readyz is not 200"
		[ "$(summary "$i")" = "running $n $n true" ] ||
			die "quorum-$i /status: $(summary "$i")"
		qp_ns_has "$i" geth || die "no geth stand-in runs as quorum-$i"
		qp_ns_has "$i" tessera || die "no TM stand-in runs as quorum-$i"
		grep -q '^GETH start' "$QP_STATE/logs/fake-$i.log" ||
			die "the geth stand-in of quorum-$i logged no start"
		grep -q '^TESSERA start' "$QP_STATE/logs/fake-$i.log" ||
			die "the TM stand-in of quorum-$i logged no start"
	done
	note "every node: TM and geth stand-ins running, /readyz 200"
	for ((i = 0; i < n; i++)); do kill -TERM "${pids[$i]}"; done
	# Grace: STOP_TIMEOUT for geth, then for the TM, plus slack.
	for ((i = 0; i < n; i++)); do
		qp_wait 30 qp_ns_empty "$i" || {
			ps -o pid,stat,args -p "$(ip netns pids "$(qp_ns "$i")" |
				tr '\n' ',' | sed 's/,$//')" | sed 's/^/    /'
			die "processes left in $(qp_ns "$i") after SIGTERM + grace"
		}
		wait "${pids[$i]}"
		code=$?
		[ "$code" = 143 ] || die "quorum-$i exited $code after SIGTERM, want 143"
	done
	note "SIGTERM: every namespace empty within the grace time, exit 143"
}

# --- restarts from the network record (DESIGN §11) -------------------------

# The geth and TM stand-ins on PATH for launched nodes.
standins() {
	local bin=$QP_STATE/bin t
	for t in fake-geth fake-tm; do
		[ -x "$BUILD/$t" ] || die "no $BUILD/$t"
	done
	mkdir -p "$bin"
	ln -sf "$BUILD/fake-geth" "$bin/geth"
	ln -sf "$BUILD/fake-tm" "$bin/tessera"
}

# lstart I N [VAR=value...]: start with the stand-ins, LAUNCH=yes.
lstart() {
	local i=$1 n=$2
	shift 2
	start "$i" "$n" LAUNCH=yes PRIVACY=none STOP_TIMEOUT=5 \
		"PATH=$QP_STATE/bin:$PATH" FAKE_LOG="$QP_STATE/logs/fake-$i.log" "$@"
}

# stop I: SIGTERM node I's daemon and wait until its namespace is empty.
stop() {
	local pid
	pid=$(qp_pid "$1") || return 0
	kill -TERM "$pid"
	qp_wait 30 qp_ns_empty "$1" || die "quorum-$1 did not stop on SIGTERM"
}

status_field() { qp_curl "$1" /status | jq_ field "$2"; }

# A formed node restarted while the others are down starts geth at once
# from its record, and is ready (geth answers over IPC) without them.
case_record() {
	local n=3 i
	standins
	net "$n"
	for ((i = 0; i < n; i++)); do lstart "$i" "$n"; done
	converge "$n" 120
	[ -f "$(qp_dir 0)/network.json" ] || die "no network.json on quorum-0"
	# member: once geth lists it in raft (asked a round after it answers)
	qp_wait 20 sh -c "curl -s --max-time 2 http://$(qp_ip 0)/status |
		grep -q '\"state\":\"member\"'" ||
		die "quorum-0 network.state: $(status_field 0 network.state)"
	for ((i = 0; i < n; i++)); do stop "$i"; done
	note "formed, then every node stopped"
	lstart 0 "$n"
	qp_wait 30 ready 0 || die "quorum-0 restarted alone is not ready"
	[ "$(grep -c '^GETH start' "$QP_STATE/logs/fake-0.log")" = 2 ] ||
		die "geth was not started again on quorum-0"
	[ "$(status_field 0 phase)" = running ] ||
		die "quorum-0 phase: $(status_field 0 phase)"
	[ "$(status_field 0 network.members)" = "[0, 1, 2]" ] ||
		die "quorum-0 network.members: $(status_field 0 network.members)"
	note "quorum-0 runs geth and is ready with its 2 peers down"
	lstart 1 "$n"
	lstart 2 "$n"
	qp_wait 30 all_ready "$n" || die "not every node ready after restart"
	same_files "$n"
	note "all three back, node lists unchanged"
}

# A member restarted at a new address (ADDRESS_MODE=ip: a new pod IP) is
# found by the others in the background: their permissioned and static
# nodes and records name it there, and their geth got admin_addPeer.
case_moved() {
	local n=3 i new=$QP_NET.9.9 old
	standins
	net "$n"
	for ((i = 0; i < n; i++)); do lstart "$i" "$n"; done
	converge "$n" 120
	old=$(qp_ip 1)
	stop 1
	ip -n "$(qp_ns 1)" addr add "$new/16" dev eth0 ||
		die "cannot add $new to quorum-1"
	lstart 1 "$n" NODE_IP="$new"
	qp_wait 30 ready 1 || die "quorum-1 restarted at $new is not ready"
	for i in 0 2; do
		qp_wait 30 grep -q "@$new:" "$(qp_dir "$i")/dd/permissioned-nodes.json" ||
			die "quorum-$i's permissioned-nodes.json does not name $new"
		grep -q "@$old:" "$(qp_dir "$i")/dd/permissioned-nodes.json" &&
			die "quorum-$i's permissioned-nodes.json still names $old"
		grep -q "@$new:" "$(qp_dir "$i")/dd/static-nodes.json" ||
			die "quorum-$i's static-nodes.json does not name $new"
		grep -q "@$new:" "$(qp_dir "$i")/network.json" ||
			die "quorum-$i's network record does not name $new"
		qp_wait 20 grep -q "^GETH addPeer enode://.*@$new:" \
			"$QP_STATE/logs/fake-$i.log" ||
			die "quorum-$i's geth got no admin_addPeer for $new"
	done
	same_files "$n"
	note "quorum-1 moved $old -> $new: lists, records, admin_addPeer"
}

# ADDRESS_MODE=dns with istanbul: a member restarted at a new address keeps
# its enode (a host name), but the others' geth resolved that name once, at
# its start: their daemons drop it and dial it again at the new address.
case_movedns() {
	local n=3 i new=$QP_NET.9.9
	standins
	net "$n"
	for ((i = 0; i < n; i++)); do
		lstart "$i" "$n" CONSENSUS=istanbul ADDRESS_MODE=dns
	done
	converge "$n" 120
	stop 1
	ip -n "$(qp_ns 1)" addr add "$new/16" dev eth0 ||
		die "cannot add $new to quorum-1"
	lstart 1 "$n" CONSENSUS=istanbul ADDRESS_MODE=dns NODE_IP="$new"
	qp_wait 30 ready 1 || die "quorum-1 restarted at $new is not ready"
	for i in 0 2; do
		qp_wait 20 grep -q "^GETH removePeer enode://.*@$new:" \
			"$QP_STATE/logs/fake-$i.log" ||
			die "quorum-$i's geth was not told to drop quorum-1"
		qp_wait 20 grep -q "^GETH addPeer enode://.*@$new:" \
			"$QP_STATE/logs/fake-$i.log" ||
			die "quorum-$i's geth got no admin_addPeer for $new"
		grep -q "@quorum-1:" "$(qp_dir "$i")/dd/static-nodes.json" ||
			die "quorum-$i's static-nodes.json lost the host name"
	done
	note "quorum-1 at $new: its peers' geth redialled it there"
}

# A data dir made before records existed (chain data, no network.json) is
# started from its own genesis.json and static-nodes.json, never formed
# again, even with every peer down.
case_legacy() {
	local n=3 i before
	standins
	net "$n"
	for ((i = 0; i < n; i++)); do lstart "$i" "$n"; done
	converge "$n" 120
	for ((i = 0; i < n; i++)); do stop "$i"; done
	rm "$(qp_dir 0)/network.json"
	before=$(snapshot 0 genesis.json dd/static-nodes.json)
	lstart 0 "$n"
	qp_wait 30 ready 0 || die "quorum-0 without a record is not ready"
	[ -f "$(qp_dir 0)/network.json" ] || die "the record was not rebuilt"
	[ "$(status_field 0 network.members)" = "[0, 1, 2]" ] ||
		die "rebuilt members: $(status_field 0 network.members)"
	[ "$(snapshot 0 genesis.json dd/static-nodes.json)" = "$before" ] ||
		die "genesis.json or static-nodes.json was rewritten"
	grep -q 'rebuilt from genesis.json' "$(qp_log 0)" ||
		die "no log line says the record was rebuilt"
	note "record rebuilt from genesis.json and static-nodes.json"
}

# The genesis is frozen: a formed node whose genesis.json no longer is the
# one its network formed with stops, naming both hashes, and changes
# nothing.
case_frozen() {
	local n=2 i before code
	standins
	net "$n"
	for ((i = 0; i < n; i++)); do lstart "$i" "$n"; done
	converge "$n" 120
	for ((i = 0; i < n; i++)); do stop "$i"; done
	sed -i 's/"gasLimit"/"gasLimit" /' "$(qp_dir 0)/genesis.json"
	before=$(snapshot 0 genesis.json network.json dd/static-nodes.json)
	lstart 0 "$n"
	qp_wait 20 sh -c "! kill -0 $(cat "$(qp_pidfile 0)") 2>/dev/null" ||
		die "quorum-0 kept running with another genesis"
	wait "$(cat "$(qp_pidfile 0)")" 2>/dev/null
	grep -q 'is not the genesis this node.s network formed with' \
		"$(qp_log 0)" || die "no line names the genesis mismatch"
	[ "$(snapshot 0 genesis.json network.json dd/static-nodes.json)" = \
		"$before" ] || die "files changed"
	[ "$(grep -c '^GETH start' "$QP_STATE/logs/fake-0.log")" = 1 ] ||
		die "geth was started with another genesis"
	note "refused: $(grep -o 'keccak256 0x[0-9a-f]*' "$(qp_log 0)" | head -2 | tr '\n' ' ')"
}

# IBFT: nodes added beside a formed network (NODE_NUMBER raised on the new
# ones only) never form a second network: they take the network's genesis
# and run as full nodes; with VALIDATORS=all (the default) the validators'
# daemons vote the lowest ordinal in once it has their chain (the geth
# stand-in's validators are the genesis's, so the vote never passes here:
# the real geth covers that in tests/quorum), with VALIDATORS=initial
# nobody votes. The members' genesis is untouched.
nofork_run() {
	local i before want
	standins
	net 5
	for i in 0 1 2; do lstart "$i" 3 CONSENSUS=istanbul FAKE_GETH_BLOCK=7 "$@"; done
	converge 3 120
	before=$(for i in 0 1 2; do snapshot "$i" genesis.json; done)
	for i in 3 4; do lstart "$i" 5 CONSENSUS=istanbul FAKE_GETH_BLOCK=7 "$@"; done
	for i in 3 4; do
		qp_wait 60 ready "$i" || die "quorum-$i is not ready: $(summary "$i")"
		cmp -s "$(qp_dir 0)/genesis.json" "$(qp_dir "$i")/genesis.json" ||
			die "quorum-$i's genesis is not the network's: a second chain"
		grep -q '^GETH run ' "$QP_STATE/logs/fake-$i.log" ||
			die "quorum-$i's geth did not start"
	done
	all_ready 3 || die "a member is not ready any more"
	[ "$(for i in 0 1 2; do snapshot "$i" genesis.json; done)" = "$before" ] ||
		die "a member's genesis changed"
	want=joining
	case " $* " in *" VALIDATORS=initial "*) want=member ;; esac
	for i in 3 4; do
		qp_wait 20 sh -c "curl -s --max-time 2 http://$(qp_ip "$i")/status |
			grep -q '\"state\":\"$want\"'" ||
			die "quorum-$i: network.state is not $want: $(status_field "$i" network.state)"
	done
	if [ "$want" = joining ]; then
		for i in 0 1 2; do
			qp_wait 20 grep -q '^GETH istanbul propose 0x[0-9a-f]* true' \
				"$QP_STATE/logs/fake-$i.log" ||
				die "validator quorum-$i did not vote the joiner in"
		done
		[ "$(grep -h '^GETH istanbul propose' "$QP_STATE"/logs/fake-[012].log |
			sort -u | wc -l)" = 1 ] ||
			die "votes for more than one joiner at a time"
		note "same genesis, full nodes; the validators vote one joiner in"
	else
		grep -q '^GETH istanbul propose' "$QP_STATE"/logs/fake-[012].log &&
			die "a vote with VALIDATORS=initial"
		note "same genesis, full nodes; VALIDATORS=initial: no vote"
	fi
}

case_nofork() {
	nofork_run
}

# The same with relaying (a secret) and VALIDATORS=initial: a joiner may
# get every member's document from another joiner.
case_nofork_relay() {
	nofork_run CLUSTER_SECRET=nofork-relay-secret-0123456789 \
		VALIDATORS=initial
}

# Raft: a node started with NODE_NUMBER=4 beside a network of 3 (members
# untouched) joins it: every member permits it and records it, the leader's
# daemon adds it as a learner, it starts geth with --raftjoinexisting and
# the ID it was given, is promoted once caught up, and a restart keeps
# that ID.
case_join() {
	local i f
	standins
	net 4
	# One height everywhere: the stand-ins' chains do not sync, and a
	# learner is promoted only once it has the leader's height.
	for i in 0 1 2; do lstart "$i" 3 FAKE_GETH_BLOCK=7; done
	converge 3 120
	lstart 3 4 FAKE_GETH_BLOCK=7
	qp_wait 60 ready 3 || die "the joiner is not ready: $(summary 3)"
	f=$QP_STATE/logs/fake-3.log
	grep -q '^GETH run raft=1 raftid=4 ' "$f" ||
		die "the joiner's geth did not start as raft ID 4: $(grep '^GETH run' "$f")"
	grep -q '^GETH raft addLearner enode://.* id=4' "$QP_STATE/logs/fake-0.log" ||
		die "the leader's daemon did not add the joiner as a learner"
	qp_wait 30 grep -q '^GETH raft promoteToPeer 4' "$QP_STATE/logs/fake-0.log" ||
		die "the learner was not promoted"
	for i in 0 1 2; do
		qp_wait 20 grep -q "$(field_of 3 node_id)" \
			"$(qp_dir "$i")/dd/permissioned-nodes.json" ||
			die "quorum-$i does not permit the joiner"
		grep -q '"ordinal":3' "$(qp_dir "$i")/network.json" ||
			die "quorum-$i's record lacks the joiner"
	done
	qp_wait 20 sh -c "curl -s --max-time 2 http://$(qp_ip 3)/status |
		grep -q '\"state\":\"member\"'" ||
		die "the joiner's network.state: $(status_field 3 network.state)"
	cmp -s "$(qp_dir 0)/genesis.json" "$(qp_dir 3)/genesis.json" ||
		die "the joiner's genesis is not the network's"
	note "quorum-3 joined as raft ID 4: permitted, learner, promoted"
	stop 3
	lstart 3 4 FAKE_GETH_BLOCK=7
	qp_wait 30 ready 3 || die "the joiner did not come back"
	[ "$(grep -c '^GETH run raft=1 raftid=4 ' "$f")" = 2 ] ||
		die "the joiner restarted without its raft ID"
	note "restarted with --raftjoinexisting 4"
}

# Raft: two nodes join at once (NODE_NUMBER=5 on them only): one change
# at a time, each confirmed, so they end with distinct raft IDs, and the
# network's genesis (never a second one).
case_join2() {
	local i ids
	standins
	net 5
	for i in 0 1 2; do lstart "$i" 3 FAKE_GETH_BLOCK=7; done
	converge 3 120
	for i in 3 4; do lstart "$i" 5 FAKE_GETH_BLOCK=7; done
	for i in 3 4; do
		qp_wait 60 ready "$i" || die "quorum-$i is not ready: $(summary "$i")"
		cmp -s "$(qp_dir 0)/genesis.json" "$(qp_dir "$i")/genesis.json" ||
			die "quorum-$i's genesis is not the network's"
	done
	ids=$(for i in 3 4; do
		sed -n 's/^GETH run raft=1 raftid=\([0-9]*\) .*/\1/p' \
			"$QP_STATE/logs/fake-$i.log" | head -n 1
	done | sort -u | tr '\n' ' ')
	[ "$ids" = "4 5 " ] || die "raft IDs of the joiners: '$ids', want 4 and 5"
	[ "$(grep -c '^GETH raft addLearner' "$QP_STATE/logs/fake-0.log")" = 2 ] ||
		die "not exactly two addLearner calls: $(grep -c '^GETH raft addLearner' "$QP_STATE/logs/fake-0.log")"
	note "quorum-3 and quorum-4 joined at once as raft IDs 4 and 5"
}

# field_of I KEY: KEY of node I's /env.json.
field_of() { qp_curl "$1" /env.json | jq_ field "$2"; }

# --- stand-ins sharing one network (FAKE_GETH_NET) ---------------------------
# The geth stand-ins of a case share $QP_STATE/fakenet: one raft cluster
# whose conf changes apply a while after they are proposed (a second one
# proposed meanwhile is dropped), or one IBFT chain whose validators vote.

fakenet() { printf '%s\n' "FAKE_GETH_NET=$QP_STATE/fakenet"; }

# net_voter ID NODE_ID: the shared raft cluster holds ID, a voter, as NODE_ID.
net_voter() {
	"$QP_PY" -c '
import json, sys
ms = json.load(open(sys.argv[1]))["members"]
sys.exit(not any(m["raftId"] == int(sys.argv[2]) and not m["learner"] and
                 m["nodeId"] == sys.argv[3].lower() for m in ms))
' "$QP_STATE/fakenet/raft.json" "$1" "$2" 2>/dev/null
}

# net_validators: the shared chain's validators, one a line.
net_validators() {
	"$QP_PY" -c '
import json, sys
print("\n".join(json.load(open(sys.argv[1]))["validators"]))
' "$QP_STATE/fakenet/chain.json" 2>/dev/null
}

net_nvalidators() { [ "$(net_validators | wc -l)" = "$1" ]; }

# geth_raftid I: the raft ID node I's geth first ran as.
geth_raftid() {
	sed -n 's/^GETH run raft=1 raftid=\([0-9]*\) .*/\1/p' \
		"$QP_STATE/logs/fake-$1.log" | head -n 1
}

# Raft: the daemon's first conf change is lost on the way
# (FAKE_GETH_RAFT_DROP=1: the stand-in answers it with an ID and never
# applies it). The joiner's daemon must see it missing from raft_cluster
# and send it again: the joiner ends a voter with raft ID 4.
case_raftlost() {
	local i id
	standins
	net 4
	for i in 0 1 2; do
		lstart "$i" 3 FAKE_GETH_BLOCK=7 "$(fakenet)" FAKE_GETH_RAFT_DROP=1
	done
	converge 3 120
	lstart 3 4 FAKE_GETH_BLOCK=7 "$(fakenet)" FAKE_GETH_RAFT_DROP=1
	qp_wait 90 ready 3 || die "the joiner is not ready: $(summary 3)"
	id=$(field_of 3 node_id)
	qp_wait 90 net_voter 4 "$id" ||
		die "quorum-3 is not raft ID 4, a voter: $(cat "$QP_STATE/fakenet/raft.json")"
	grep -q '^GETH raft change dropped add.* id=4' "$QP_STATE"/logs/fake-*.log ||
		die "no dropped change in the stand-ins' logs (nothing proved)"
	grep -q '^GETH raft applied add.* id=4' "$QP_STATE"/logs/fake-*.log ||
		die "no applied add of raft ID 4"
	grep -q '^GETH run raft=1 raftid=4 ' "$QP_STATE/logs/fake-3.log" ||
		die "the joiner's geth did not run as raft ID 4"
	grep -h '^GETH raft [a-z]' "$QP_STATE"/logs/fake-*.log |
		sed 's/\(enode:\/\/[0-9a-f]\{8\}\)[0-9a-f]*@[^ ]*/\1../' |
		while read -r l; do note "$l"; done
	note "first addLearner lost, sent again: quorum-3 is raft ID 4, a voter"
}

# Raft, the stand-ins sharing one cluster: two nodes join at once and the
# daemons never propose a change while one is pending (the stand-in would
# drop it): raft IDs 4 and 5, both voters, nothing dropped.
case_join2net() {
	local i ids id
	standins
	net 5
	for i in 0 1 2; do lstart "$i" 3 FAKE_GETH_BLOCK=7 "$(fakenet)"; done
	converge 3 120
	for i in 3 4; do lstart "$i" 5 FAKE_GETH_BLOCK=7 "$(fakenet)"; done
	for i in 3 4; do
		qp_wait 90 ready "$i" || die "quorum-$i is not ready: $(summary "$i")"
	done
	ids=$(for i in 3 4; do geth_raftid "$i"; done | sort -u | tr '\n' ' ')
	[ "$ids" = "4 5 " ] || die "raft IDs of the joiners: '$ids', want 4 and 5"
	for i in 3 4; do
		id=$(geth_raftid "$i")
		qp_wait 90 net_voter "$id" "$(field_of "$i" node_id)" ||
			die "quorum-$i is not raft ID $id, a voter: $(cat "$QP_STATE/fakenet/raft.json")"
	done
	if grep -h '^GETH raft change dropped' "$QP_STATE"/logs/fake-*.log; then
		die "a conf change was proposed while another was pending"
	fi
	note "quorum-3 and quorum-4 are raft IDs 4 and 5, voters; nothing dropped"
}

# IBFT, the stand-ins sharing one chain: a node started with NODE_NUMBER=5
# beside 4 validators is voted in by their daemons (each vote rides on a
# block its validator proposes; 3 of 4 pass it), and each voter discards
# its vote once it passed.
case_ibftjoin() {
	local i addr
	standins
	net 5
	for i in 0 1 2 3; do lstart "$i" 4 CONSENSUS=istanbul "$(fakenet)"; done
	converge 4 120
	lstart 4 5 CONSENSUS=istanbul "$(fakenet)"
	qp_wait 90 ready 4 || die "quorum-4 is not ready: $(summary 4)"
	qp_wait 60 grep -q '^GETH istanbul propose 0x[0-9a-f]* true' \
		"$QP_STATE/logs/fake-0.log" ||
		die "validator quorum-0 did not vote the joiner in"
	addr=$(sed -n 's/^GETH istanbul propose \(0x[0-9a-f]*\) true.*/\1/p' \
		"$QP_STATE/logs/fake-0.log" | head -n 1)
	qp_wait 120 net_nvalidators 5 ||
		die "the shared chain has not 5 validators: $(net_validators | tr '\n' ' ')"
	is_validator "$addr" ||
		die "$addr is not a validator"
	grep -q "^GETH istanbul validators 5 " "$QP_STATE"/logs/fake-*.log ||
		die "no stand-in logged the new validator set"
	for i in 0 1 2 3; do
		grep -q "^GETH istanbul propose $addr true" \
			"$QP_STATE/logs/fake-$i.log" || continue
		qp_wait 60 grep -q "^GETH istanbul discard $addr" \
			"$QP_STATE/logs/fake-$i.log" ||
			die "quorum-$i did not discard its vote once it passed"
	done
	grep -h '^GETH istanbul \(vote\|validators\|discard\)' \
		"$QP_STATE"/logs/fake-*.log | cut -c1-110 |
		while read -r l; do note "$l"; done
	note "quorum-4 ($addr) voted in: 5 validators, the votes discarded"
}

# not_validator ADDR: ADDR is not in the shared chain's validator set.
# (The list is read first: `producer | grep -q` under pipefail fails when
# grep exits before the producer has written everything.)
is_validator() {
	local v
	v=$(net_validators) || return 1
	grep -qx -- "$1" <<<"$v"
}
not_validator() {
	local v
	v=$(net_validators) || return 1
	! grep -qx -- "$1" <<<"$v"
}

# addr_of I: node I's validator address (its node key's), as its stand-in
# last started.
addr_of() {
	sed -n 's/^GETH run .* address=\(0x[0-9a-f]*\).*/\1/p' \
		"$QP_STATE/logs/fake-$1.log" | tail -n 1
}

# IBFT 5 -> 4 on the shared stand-in chain: quorum-4 stopped first (as
# Kubernetes deletes it), the others restarted one at a time with
# NODE_NUMBER=4: they vote it out (4 of 4 online stay), withdraw their
# votes, and drop it from their records and permissioned-nodes.json.
case_ibftshrink() {
	local i id4
	standins
	net 5
	for i in 0 1 2 3 4; do lstart "$i" 5 CONSENSUS=istanbul "$(fakenet)"; done
	converge 5 120
	qp_wait 30 net_nvalidators 5 || die "not 5 validators: $(net_validators | tr '\n' ' ')"
	id4=$(field_of 4 node_id)
	stop 4
	for i in 3 2 1 0; do
		stop "$i"
		lstart "$i" 4 CONSENSUS=istanbul "$(fakenet)"
		qp_wait 60 ready "$i" || die "quorum-$i is not ready: $(summary "$i")"
	done
	note "quorum-4 stopped; quorum-0..3 restarted with NODE_NUMBER=4"
	qp_wait 120 net_nvalidators 4 ||
		die "quorum-4 was not voted out: $(net_validators | tr '\n' ' '); quorum-0: $(status_field 0 network.waiting)"
	grep -q '^GETH istanbul propose 0x[0-9a-f]* false' "$QP_STATE/logs/fake-0.log" ||
		die "quorum-0 did not vote quorum-4 out"
	for i in 0 1 2 3; do
		qp_wait 30 sh -c "! grep -q '\"ordinal\":4' '$(qp_dir "$i")/network.json'" ||
			die "quorum-4 is still in quorum-$i's record"
		grep -q "$id4" "$(qp_dir "$i")/dd/permissioned-nodes.json" &&
			die "quorum-$i still permits quorum-4"
		if grep -q '^GETH istanbul propose 0x[0-9a-f]* false' \
			"$QP_STATE/logs/fake-$i.log"; then
			qp_wait 30 grep -q '^GETH istanbul discard' \
				"$QP_STATE/logs/fake-$i.log" ||
				die "quorum-$i did not withdraw its vote"
		fi
	done
	note "quorum-4 voted out: 4 validators, out of every record, votes withdrawn"
}

# IBFT: a vote-out that would leave two thirds or fewer of the validators
# online is not cast, and /status says why: 4 validators, quorum-3 (goes)
# and quorum-2 (stays) stopped, quorum-0 and 1 restarted with NODE_NUMBER=3.
case_ibftrefuse() {
	local i
	standins
	net 4
	for i in 0 1 2 3; do lstart "$i" 4 CONSENSUS=istanbul "$(fakenet)"; done
	converge 4 120
	stop 3
	stop 2
	for i in 1 0; do
		stop "$i"
		lstart "$i" 3 CONSENSUS=istanbul "$(fakenet)"
		qp_wait 60 ready "$i" || die "quorum-$i is not ready: $(summary "$i")"
	done
	qp_wait 30 sh -c "curl -s --max-time 2 http://$(qp_ip 0)/status |
		grep -q 'not voting ordinal 3 out: of the 3 validators left, 2 would be online'" ||
		die "quorum-0's network.waiting: $(status_field 0 network.waiting)"
	grep -q '^GETH istanbul propose .* false' "$QP_STATE"/logs/fake-[01].log &&
		die "a vote-out was cast with 2 of 4 validators online"
	net_nvalidators 4 || die "validators changed: $(net_validators | tr '\n' ' ')"
	grep -q '"ordinal":3' "$(qp_dir 0)/network.json" ||
		die "quorum-3 left quorum-0's record"
	note "not voted out with 2 of 4 online: $(status_field 0 network.waiting)"
}

# IBFT on the shared stand-in chain: quorum-3 loses its volume and comes
# back with a new identity; after REPLACE_AFTER the validators vote the old
# address out, the new identity joins and is voted in.
case_ibftreplace() {
	local i old new
	standins
	net 4
	for i in 0 1 2 3; do
		lstart "$i" 4 CONSENSUS=istanbul REPLACE_AFTER=3 "$(fakenet)"
	done
	converge 4 120
	old=$(addr_of 3)
	[ -n "$old" ] || die "no address for quorum-3"
	stop 3
	rm -rf "$(qp_dir 3)"
	lstart 3 4 CONSENSUS=istanbul REPLACE_AFTER=3 "$(fakenet)"
	qp_wait 120 not_validator "$old" ||
		die "the old quorum-3 was not voted out: $(net_validators | tr '\n' ' ')"
	note "the old quorum-3 ($old) voted out"
	qp_wait 120 net_nvalidators 4 ||
		die "the new quorum-3 was not voted in: $(net_validators | tr '\n' ' '); quorum-0: $(status_field 0 network.waiting)"
	new=$(addr_of 3)
	is_validator "$new" || die "the new quorum-3 ($new) is not a validator"
	not_validator "$old" || die "the old quorum-3 is still a validator"
	note "the new quorum-3 ($new) voted in: 4 validators"
}

# With a CLUSTER_SECRET a replacement needs the MAC: quorum-3 comes back
# with a new identity and the wrong secret: never a conflict, never a
# replacement (the old validator stays); with the right secret it replaces
# the old one after REPLACE_AFTER.
case_replace_secret() {
	local i old new
	standins
	net 4
	for i in 0 1 2 3; do
		lstart "$i" 4 CONSENSUS=istanbul REPLACE_AFTER=2 \
			CLUSTER_SECRET=alpha-secret-0123 "$(fakenet)"
	done
	converge 4 120
	old=$(addr_of 3)
	stop 3
	rm -rf "$(qp_dir 3)"
	lstart 3 4 CONSENSUS=istanbul REPLACE_AFTER=2 \
		CLUSTER_SECRET=bravo-secret-4567 "$(fakenet)"
	sleep 12
	is_validator "$old" ||
		die "the old quorum-3 was voted out for a document without the MAC"
	grep -q '^GETH istanbul propose .* false' "$QP_STATE"/logs/fake-[012].log &&
		die "a vote-out was cast for a document without the MAC"
	grep -q "another identity at a member's ordinal" "$(qp_log 0)" &&
		die "quorum-0 took a document without the MAC as a conflict"
	note "a new identity without the MAC: no conflict, no vote, $old stays"
	stop 3
	rm -rf "$(qp_dir 3)"
	lstart 3 4 CONSENSUS=istanbul REPLACE_AFTER=2 \
		CLUSTER_SECRET=alpha-secret-0123 "$(fakenet)"
	qp_wait 120 not_validator "$old" ||
		die "the old quorum-3 was not voted out: $(net_validators | tr '\n' ' ')"
	qp_wait 120 net_nvalidators 4 ||
		die "the new quorum-3 was not voted in: $(net_validators | tr '\n' ' ')"
	new=$(addr_of 3)
	is_validator "$new" || die "the new quorum-3 ($new) is not a validator"
	note "with the MAC: $old replaced by $new"
}

# net_gone ID: raft ID is not a member of the shared raft cluster.
net_gone() {
	"$QP_PY" -c '
import json, sys
ms = json.load(open(sys.argv[1]))["members"]
sys.exit(any(m["raftId"] == int(sys.argv[2]) for m in ms))
' "$QP_STATE/fakenet/raft.json" "$1" 2>/dev/null
}

# Raft 4 -> 3 where the member that goes leads (FAKE_GETH_RAFT_LEADER=4)
# and keeps running: its daemon does not know it goes, so the lowest live
# voter that stays proposes its removal (geth forwards it to the leader);
# the removed leader's daemon stops its geth.
case_leadergoes() {
	local i pid3
	standins
	net 4
	for i in 0 1 2 3; do
		lstart "$i" 4 "$(fakenet)" FAKE_GETH_RAFT_LEADER=4 FAKE_GETH_BLOCK=7
	done
	converge 4 120
	qp_wait 30 net_voter 4 "$(field_of 3 node_id)" ||
		die "quorum-3 is not raft ID 4"
	pid3=$(qp_pid 3)
	for i in 2 1 0; do
		stop "$i"
		lstart "$i" 3 "$(fakenet)" FAKE_GETH_RAFT_LEADER=4 FAKE_GETH_BLOCK=7
		qp_wait 60 ready "$i" || die "quorum-$i is not ready: $(summary "$i")"
	done
	note "quorum-0..2 restarted with NODE_NUMBER=3; quorum-3 leads and runs"
	qp_wait 60 grep -q '^GETH raft removePeer 4' "$QP_STATE/logs/fake-0.log" ||
		die "quorum-0 did not propose the leader's removal: $(status_field 0 network.waiting)"
	qp_wait 30 net_gone 4 || die "raft ID 4 is still in the cluster"
	grep -q 'removing quorum-3 (raft ID 4, the leader)' "$(qp_log 0)" ||
		die "quorum-0's daemon did not say it removes the leader"
	qp_wait 60 sh -c "! kill -0 $pid3 2>/dev/null" ||
		die "quorum-3's daemon still runs after its removal"
	grep -q 'removed from the raft cluster: stopping geth' "$(qp_log 3)" ||
		die "quorum-3's daemon did not say it was removed"
	for i in 0 1 2; do
		qp_wait 30 sh -c "! grep -q '\"ordinal\":3' '$(qp_dir "$i")/network.json'" ||
			die "quorum-3 is still in quorum-$i's record"
	done
	note "the leader quorum-3 removed on quorum-0's proposal; it stopped its geth"
}

# A first `geth init` killed part way (the stand-in's FAKE_GETH_INIT_KILL:
# chaindata made, no genesis written, SIGKILL) fails the start, and the
# next start runs geth init again: the chain is the network's. A daemon
# that took an existing chaindata for an initialised chain would start
# geth on it, and geth would write the mainnet genesis there: IBFT then
# exits "Consensus not specified" at every start (raft runs a chain no
# peer shares, which the "chain mainnet" check catches).
case_init_killed() {
	local n=3 i pid code
	standins
	net "$n"
	lstart 0 "$n" CONSENSUS=istanbul FAKE_GETH_INIT_KILL=1
	for i in 1 2; do lstart "$i" "$n" CONSENSUS=istanbul; done
	pid=$(cat "$(qp_pidfile 0)")
	qp_wait 60 sh -c "! kill -0 $pid 2>/dev/null" ||
		die "quorum-0 kept running after its geth init was killed"
	wait "$pid"
	code=$?
	[ "$code" != 0 ] || die "quorum-0 exited 0 after its geth init was killed"
	grep -q '^GETH init killed' "$QP_STATE/logs/fake-0.log" ||
		die "the geth stand-in of quorum-0 was not killed in init"
	[ -d "$(qp_dir 0)/dd/geth/chaindata" ] ||
		die "the killed init left no chaindata (nothing to prove)"
	[ ! -e "$(qp_dir 0)/geth-init.done" ] ||
		die "geth-init.done written though init was killed"
	grep -q '^GETH start' "$QP_STATE/logs/fake-0.log" &&
		die "geth started on quorum-0 after its init was killed"
	note "quorum-0: geth init killed part way, daemon exited $code"
	lstart 0 "$n" CONSENSUS=istanbul
	qp_wait 60 all_ready "$n" || die "not every node is ready: $(summary 0)"
	[ "$(grep -c '^GETH init ok' "$QP_STATE/logs/fake-0.log")" = 1 ] ||
		die "quorum-0's restart did not run geth init"
	if grep -q 'mainnet' "$QP_STATE/logs/fake-0.log"; then
		die "quorum-0's geth runs the mainnet genesis"
	fi
	[ -e "$(qp_dir 0)/geth-init.done" ] || die "no geth-init.done on quorum-0"
	qp_wait 20 grep -q '^GETH blockperiod 5 ' "$QP_STATE/logs/fake-0.log" ||
		die "quorum-0's geth does not run 5 s blocks"
	for ((i = 0; i < n; i++)); do
		[ "$(status_field "$i" network.state)" = member ] ||
			die "quorum-$i network.state: $(status_field "$i" network.state)"
	done
	same_files "$n"
	note "restarted quorum-0 ran geth init, its geth runs the network's chain"
}

# qp_ns_has I WORD: a process whose command line holds WORD runs in node
# I's namespace.
qp_ns_has() {
	local p
	for p in $(ip netns pids "$(qp_ns "$1")" 2>/dev/null); do
		grep -q -- "$2" <<<"$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" &&
			return 0
	done
	return 1
}

# --- runner -----------------------------------------------------------------
qp_run_cases "$@"
