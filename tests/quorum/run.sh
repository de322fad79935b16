#!/usr/bin/env bash
# Tests against the REAL GoQuorum geth: quorum-peerd daemons, each PID 1 of
# its own PID namespace inside its own network namespace (as in a
# container), start the real geth (raft or IBFT, PRIVACY=none), and a
# contract flow (flow.mjs: solc + ethers 6) runs over their JSON-RPC.
# Needs root, iproute2, util-linux, curl, python3, node >= 20 and npm.
#
#   tests/quorum/run.sh                    every case
#   tests/quorum/run.sh raft3 status       only the named cases
#
# QUORUM_GETH=path picks the geth (default: the repository's sibling
# shared/quorum/geth). Where there is none, the suite prints
# "not run: no real geth" and exits 3: it did not run, it did not pass.
# PEERD=path/quorum-peerd picks the daemon (default: build/, built with cmake
# if absent). KEEP=1 keeps the state dir (data dirs, logs) of failed cases.
# Namespaces are qpq-<i> on br-qpq in 10.215.0.0/16 (QP_NS, QP_BR, QP_NET
# pick others), apart from the other
# suites' and scripts/local-cluster.sh's; all are removed on exit. The host
# is on the bridge at 10.215.0.1 and reaches each geth's RPC at
# http://<node IP>:8545. No case asserts on elapsed time; waits are bounded.
# "A && B || C" is used where B cannot fail when A held:
# shellcheck disable=SC2015
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/quorum
NOT_RUN=3

# --- the real geth, or "not run" ----------------------------------------
GETH=${QUORUM_GETH:-$root/../shared/quorum/geth}
not_run() {
	printf 'not run: no real geth (%s)\n' "$*"
	exit "$NOT_RUN"
}
[ -e "$GETH" ] || not_run "QUORUM_GETH=$GETH does not exist"
[ -f "$GETH" ] && [ -x "$GETH" ] || not_run "$GETH is not an executable file"
GETH=$(cd "$(dirname "$GETH")" && pwd)/$(basename "$GETH")
geth_version=$("$GETH" version 2>/dev/null) ||
	not_run "$GETH version fails"
grep -q '^Quorum Version:' <<<"$geth_version" ||
	not_run "$GETH is not GoQuorum's geth (no Quorum Version in \`geth version\`)"
printf 'geth: %s (%s, Quorum %s)\n' "$GETH" \
	"$(printf '%s\n' "$geth_version" | sed -n 's/^Version: //p')" \
	"$(printf '%s\n' "$geth_version" | sed -n 's/^Quorum Version: //p')"

QP_NS=${QP_NS:-qpq-}
QP_BR=${QP_BR:-br-qpq}
QP_NET=${QP_NET:-10.215}
base=$(mktemp -d /tmp/qpq.XXXXXX)
chmod 0755 "$base"
QP_STATE=$base
# shellcheck source=scripts/lib/netns.sh
. "$root/scripts/lib/netns.sh"

all_cases=(raft3 ibft4 restart_minority restart_all dnsmode status sigstop join join2
	shrink shrink_leader replace ibft_join ibft_shrink ibft_replace init_killed)

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

# --- binaries and node modules -------------------------------------------
if [ -z "${PEERD:-}" ]; then
	BUILD=${BUILD:-$root/build}
	cmake -S "$root" -B "$BUILD" >/dev/null &&
		cmake --build "$BUILD" -j"$(nproc)" --target quorum-peerd >/dev/null || {
		echo "cannot build quorum-peerd in $BUILD" >&2
		exit 1
	}
	PEERD=$BUILD/quorum-peerd
fi
PEERD=$(cd "$(dirname "$PEERD")" && pwd)/$(basename "$PEERD")
QP_PEERD=$PEERD
qp_need_root
[ -x "$PEERD" ] || qp_die "no quorum-peerd at $PEERD"
command -v node >/dev/null && command -v npm >/dev/null ||
	qp_die "node and npm are needed (scripts/deps.sh node)"
if [ ! -d "$here/node_modules/solc" ] || [ ! -d "$here/node_modules/ethers" ] ||
	[ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
	echo "== npm ci"
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) ||
		qp_die "npm ci failed in $here"
fi

# --- helpers used inside cases (each case runs in a subshell) -------------
die() {
	printf '    FAIL: %s\n' "$*"
	exit 1
}
note() { printf "    [%3d s] %s\n" $((SECONDS - ${t0:-0})) "$*"; }
jq_() { "$QP_PY" "$here/jq.py" "$@"; }

# Environment every daemon gets; cases add to it. The checks read raft_*,
# istanbul_* and admin_nodeInfo over HTTP, which the default RPC_APIS
# leaves to IPC (Quorum 2.7.0 ignores the namespace a node does not have).
common_env() {
	printf '%s\n' KEYSTORE_KDF=light LOG_LEVEL=info LAUNCH=yes PRIVACY=none \
		DISCOVERY_TIMEOUT=0 STOP_TIMEOUT=15 "GETH_BIN=$GETH" "PATH=$PATH" \
		RPC_APIS=eth,net,web3,txpool,admin,raft,istanbul
}

net() { qp_net_up "$@" || die "cannot create the network"; }

# start I N [VAR=value...]: quorum-peerd run as PID 1 of a new PID
# namespace (and mount namespace with its own /proc, as in a container),
# in node I's network namespace under its host name. The daemon's pid as
# the host sees it goes to qp_pidfile I (so qp_pid works); unshare's to
# <pidfile>.unshare. With QP_GATE (qp_gate_open) it waits there first.
start() {
	local i=$1 n=$2 envs u pid t log dir ns host
	shift 2
	# Expanded here: a background command expands its words in the forked
	# child, whose command substitutions would be children of $! too.
	log=$(qp_log "$i") dir=$(qp_dir "$i") ns=$(qp_ns "$i") host=$(qp_host "$i")
	mapfile -t envs < <(common_env)
	mkdir -p "$(qp_dir "$i")" "$QP_STATE/logs" "$QP_STATE/pids" ||
		die "cannot make quorum-$i's dirs"
	chmod 0700 "$(qp_dir "$i")"
	# shellcheck disable=SC2016 # expanded by the node's sh
	env DATA_DIR="$dir" "${envs[@]}" NODE_NUMBER="$n" "$@" \
		setsid ip netns exec "$ns" \
		unshare --uts --pid --fork --mount-proc --kill-child sh -c \
		'hostname "$0" || exit 1
		[ -z "$1" ] || { read -r _ <"$1" || :; }
		shift
		exec "$@"' "$host" "${QP_GATE:-}" \
		"$PEERD" run </dev/null >>"$log" 2>&1 9>&- &
	u=$!
	printf '%s\n' "$u" >"$(qp_pidfile "$i").unshare"
	pid=
	for ((t = 0; t < 100; t++)); do
		# unshare's child, once env, setsid and ip have exec'd it
		if [ "$(cat "/proc/$u/comm" 2>/dev/null)" = unshare ]; then
			read -r pid _ <"/proc/$u/task/$u/children" 2>/dev/null
			[ -n "$pid" ] && break
		fi
		kill -0 "$u" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$pid" ] || die "quorum-$i: no PID 1 appeared (see $(qp_log "$i"))"
	printf '%s\n' "$pid" >"$(qp_pidfile "$i")"
	# PID 1 of its namespace, as in a container.
	[ "$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status" 2>/dev/null)" = 1 ] ||
		kill -0 "$pid" 2>/dev/null ||
		die "quorum-$i's daemon (pid $pid) exited at once (see $(qp_log "$i"))"
	[ "$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status" 2>/dev/null)" = 1 ] ||
		die "quorum-$i's daemon (pid $pid) is not PID 1 of its namespace"
}

# stop I: SIGTERM to node I's daemon (as `docker stop` sends it), then
# waits until every process of the node is gone (bounded: the daemon gives
# geth STOP_TIMEOUT=15 s).
stop() {
	local pid
	pid=$(qp_pid "$1") || die "quorum-$1 is not running"
	kill -TERM "$pid"
	qp_wait 60 qp_ns_empty "$1" || die "quorum-$1 did not stop on SIGTERM"
}

rpc_url() { printf 'http://%s:%s' "$(qp_ip "$1")" "${RPC_PORT:-8545}"; }

# rpc I METHOD [PARAMS-JSON]: the JSON-RPC answer of node I's geth (HTTP,
# from the host over the bridge).
rpc() {
	curl -fsS --max-time 5 -H 'Content-Type: application/json' \
		--data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":${3:-[]}}" \
		"$(rpc_url "$1")" 2>/dev/null
}
# rpcr I METHOD [PARAMS]: its result (strings bare); fails on an error.
rpcr() { rpc "$@" | jq_ rpc-result 2>/dev/null; }
height() { rpc "$1" eth_blockNumber | jq_ hexint 2>/dev/null; }
peercount() { rpc "$1" net_peerCount | jq_ hexint 2>/dev/null; }

ready() { [ "$(qp_code "$1" /readyz)" = 200 ]; }

# geth_pid I: the host pid of node I's geth.
geth_pid() {
	local p
	for p in $(ip netns pids "$(qp_ns "$1")" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = geth ] || continue
		# not `geth init` or `geth version`
		grep -q -- ' --unlock ' <<<"$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" ||
			continue
		printf '%s\n' "$p"
		return 0
	done
	return 1
}

# raft_formed I N: node I's geth is a raft minter or verifier, knows N
# cluster members and has N-1 peers.
raft_formed() {
	local role members peers
	role=$(rpcr "$1" raft_role) || return 1
	case $role in minter | verifier) ;; *) return 1 ;; esac
	members=$(rpc "$1" raft_cluster | jq_ len result 2>/dev/null) || return 1
	[ "$members" = "$2" ] || return 1
	peers=$(peercount "$1") || return 1
	[ "$peers" = $(($2 - 1)) ]
}

# ibft_formed I N: node I's geth has N validators, N-1 peers and is past
# block 0 (IBFT makes a block every period once a quorum signs).
ibft_formed() {
	local v peers h
	v=$(rpc "$1" istanbul_getValidators '["latest"]' | jq_ len result 2>/dev/null) ||
		return 1
	[ "$v" = "$2" ] || return 1
	peers=$(peercount "$1") || return 1
	[ "$peers" = $(($2 - 1)) ] || return 1
	h=$(height "$1") || return 1
	[ "$h" -ge 1 ]
}

# up I N: node I's daemon is ready and its geth answers JSON-RPC.
up() {
	qp_wait "${3:-180}" ready "$1" ||
		die "quorum-$1 /readyz is not 200 ($(qp_code "$1" /readyz)); $(qp_status_line "$1")"
	qp_wait 60 height "$1" >/dev/null || die "quorum-$1's geth does not answer JSON-RPC at $(rpc_url "$1")"
	geth_pid "$1" >/dev/null || die "no geth runs in $(qp_ns "$1")"
}

# form N CONSENSUS [VAR=value...]: N nodes started together form a network:
# every daemon ready, every geth answering, raft/IBFT membership complete.
form() { form_beside "$1" "$@"; }

# form_beside M N CONSENSUS [VAR=value...]: as form, on a bridge of M
# namespaces (room for joiners: nodes N..M-1 are not started).
form_beside() {
	local m=$1 n=$2 cons=$3 i check
	shift 3
	net "$m"
	for ((i = 0; i < n; i++)); do start "$i" "$n" CONSENSUS="$cons" "$@"; done
	for ((i = 0; i < n; i++)); do up "$i" "$n"; done
	note "$n daemons ready, $n geths answer JSON-RPC"
	check=raft_formed
	[ "$cons" = istanbul ] && check=ibft_formed
	for ((i = 0; i < n; i++)); do
		qp_wait 120 "$check" "$i" "$n" ||
			die "quorum-$i's geth did not join a $cons network of $n (peers: $(peercount "$i"))"
	done
	note "$cons network of $n formed (every geth: $n members, $((n - 1)) peers)"
}

# flow NAME I...: flow.mjs over nodes I... (the first deploys, the last
# sets); its output is indented and kept in $QP_STATE/flow-NAME.log.
flow() {
	local name=$1 urls=() i rc who
	shift
	local extra=()
	while [ $# -gt 0 ] && [ "${1#--}" != "$1" ]; do
		extra+=("$1" "$2")
		shift 2
	done
	for i in "$@"; do urls+=("$(rpc_url "$i")"); done
	who=$(printf 'quorum-%s ' "$@")
	who=${who% }
	node "$here/flow.mjs" --timeout "${FLOW_TIMEOUT:-120}" "${extra[@]}" \
		"${urls[@]}" >"$QP_STATE/flow-$name.log" 2>&1
	rc=$?
	sed 's/^/      /' "$QP_STATE/flow-$name.log"
	[ "$rc" = 0 ] || die "contract flow ($name) on $who failed"
	note "contract flow ($name) passed on $who"
}
flow_contract() { sed -n 's/^flow ok: contract \(0x[0-9a-fA-F]*\) .*/\1/p' "$QP_STATE/flow-$1.log"; }

# --- cases ------------------------------------------------------------------

# Two nodes started at once with NODE_NUMBER=5 beside a running raft
# network of 3 (its members untouched) join it, never start a second chain
# (their genesis is the network's), end with distinct raft IDs as voters,
# and the flow runs on all five.
case_join2() {
	local i ids
	form_beside 5 3 raft
	for i in 3 4; do start "$i" 5 CONSENSUS=raft; done
	for i in 3 4; do up "$i" 5 120; done
	for i in 0 1 2 3 4; do
		qp_wait 120 raft_formed "$i" 5 ||
			die "quorum-$i's geth: not a raft network of 5 (role $(rpcr "$i" raft_role), peers $(peercount "$i"))"
	done
	for i in 3 4; do
		cmp -s "$(qp_dir 0)/genesis.json" "$(qp_dir "$i")/genesis.json" ||
			die "quorum-$i's genesis is not the network's: a second chain"
	done
	ids=$(rpc 0 raft_cluster | jq_ raft-ids 2>/dev/null | sort -n | tr '\n' ' ')
	[ "$ids" = "1 2 3 4 5 " ] || die "raft IDs: '$ids', want 1 to 5"
	note "quorum-3, quorum-4 joined at once: raft IDs $ids"
	flow join2 0 1 2 3 4
	# The rollout that follows (a StatefulSet's): every node restarted,
	# one at a time, with NODE_NUMBER=5.
	for i in 0 1 2 3 4; do
		stop "$i"
		start "$i" 5 CONSENSUS=raft
		up "$i" 5
		qp_wait 120 raft_formed "$i" 5 ||
			die "quorum-$i is not back in the raft network of 5"
	done
	note "all five restarted one at a time with NODE_NUMBER=5"
	flow rolled 4 0 1 2 3
}

# IBFT 4 -> 5 validators: quorum-4 started with NODE_NUMBER=5 beside a
# running network of 4 (untouched) syncs as a full node, the validators'
# daemons vote it in (VALIDATORS=all) and discard their votes, and the
# flow runs on all five.
case_ibft_join() {
	local i
	form_beside 5 4 istanbul
	start 4 5 CONSENSUS=istanbul
	up 4 5 120
	cmp -s "$(qp_dir 0)/genesis.json" "$(qp_dir 4)/genesis.json" ||
		die "quorum-4's genesis is not the network's"
	qp_wait 180 sh -c "[ \$(curl -s --max-time 2 -H 'Content-Type: application/json' \
		--data '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"istanbul_getValidators\",\"params\":[\"latest\"]}' \
		$(rpc_url 0) | grep -o '0x[0-9a-f]\{40\}' | wc -l) = 5 ]" ||
		die "quorum-4 was not voted in: validators $(rpc 0 istanbul_getValidators | jq_ len result)"
	# A vote left standing would vote it back in after a later removal.
	qp_wait 30 sh -c "curl -s --max-time 2 -H 'Content-Type: application/json' \
		--data '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"istanbul_candidates\",\"params\":[]}' \
		$(rpc_url 0) | grep -q '\"result\":{}'" ||
		die "quorum-0 did not discard its vote: $(rpc 0 istanbul_candidates)"
	note "quorum-4 voted in: 5 validators, votes discarded"
	flow ibft_join 0 1 2 3 4
}

# validators I: node I's geth's istanbul_getValidators, one per line.
validators() {
	rpc "$1" istanbul_getValidators '["latest"]' | grep -o '0x[0-9a-f]\{40\}'
}
nvalidators() { validators "$1" | wc -l; }
# candidates_empty I: node I's geth holds no vote (istanbul_candidates {}).
candidates_empty() { grep -q '"result":{}' <<<"$(rpc "$1" istanbul_candidates)"; }

# IBFT 5 -> 4: the others are restarted one at a time with NODE_NUMBER=4
# while quorum-4 keeps running (a compose user who left its service up):
# the validators' daemons vote it out (more than 2/3 stay online), discard
# their votes, drop it from their records; quorum-4's daemon sees it was
# voted out and removed, stops its geth and exits, and stays out when
# restarted. The network of 4 runs the flow.
case_ibft_shrink() {
	local i pid addr4 id4
	form 5 istanbul
	addr4=$(rpcr 4 istanbul_nodeAddress) || die "no address for quorum-4"
	id4=$(qp_curl 4 /env.json | jq_ get node_id)
	[ ${#id4} = 128 ] || die "no node ID for quorum-4: '$id4'"
	pid=$(qp_pid 4) || die "quorum-4 is not running"
	for i in 3 2 1 0; do
		stop "$i"
		start "$i" 4 CONSENSUS=istanbul
		up "$i" 4
	done
	note "quorum-0..3 restarted with NODE_NUMBER=4"
	for i in 0 1 2 3; do
		qp_wait 240 sh -c "[ \"\$(curl -s --max-time 2 -H 'Content-Type: application/json' \
			--data '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"istanbul_getValidators\",\"params\":[\"latest\"]}' \
			$(rpc_url "$i") | grep -o '0x[0-9a-f]\{40\}' | wc -l)\" = 4 ]" ||
			die "quorum-$i: validators $(nvalidators "$i"), want 4 ($(qp_status_line "$i"))"
	done
	grep -q "$addr4" <<<"$(validators 0)" && die "quorum-4 is still a validator"
	note "quorum-4 voted out: 4 validators"
	for i in 0 1 2 3; do
		qp_wait 30 candidates_empty "$i" ||
			die "quorum-$i did not discard its vote: $(rpc "$i" istanbul_candidates)"
		qp_wait 30 sh -c "! grep -q '\"ordinal\":4' '$(qp_dir "$i")/network.json'" ||
			die "quorum-4 is still in quorum-$i's record"
		grep -q "$id4" "$(qp_dir "$i")/dd/permissioned-nodes.json" &&
			die "quorum-$i still permits quorum-4"
	done
	note "votes discarded; quorum-4 out of every record and permissioned-nodes.json"
	qp_wait 60 sh -c "! kill -0 $pid 2>/dev/null" ||
		die "quorum-4's daemon still runs after it was voted out: $(qp_status_line 4)"
	grep -q 'voted out and removed from the network: stopping geth' "$(qp_log 4)" ||
		die "quorum-4's daemon did not say it was removed"
	start 4 5 CONSENSUS=istanbul
	qp_wait 30 sh -c "curl -s --max-time 2 http://$(qp_ip 4)/status |
		grep -q '\"state\":\"removed\"'" ||
		die "restarted quorum-4 does not say removed: $(qp_status_line 4)"
	geth_pid 4 >/dev/null && die "removed quorum-4 started geth again"
	note "quorum-4's daemon stopped its geth; restarted, it stays out"
	flow ibft_shrink 0 1 2 3
}

# IBFT: quorum-3 loses its volume and comes back with a new identity: once
# the old one has been absent REPLACE_AFTER seconds the validators vote it
# out, the new identity joins and is voted in: 4 validators again, the
# old address not among them.
case_ibft_replace() {
	local i old new
	form 4 istanbul REPLACE_AFTER=5
	old=$(rpcr 3 istanbul_nodeAddress) || die "no address for quorum-3"
	stop 3
	rm -rf "$(qp_dir 3)"
	start 3 4 CONSENSUS=istanbul REPLACE_AFTER=5
	up 3 4 240
	new=$(rpcr 3 istanbul_nodeAddress) || die "no address for the new quorum-3"
	[ "$new" != "$old" ] || die "quorum-3 kept its identity"
	note "quorum-3 back with a new identity, running as a full node"
	for i in 0 1 2 3; do
		qp_wait 240 sh -c "curl -s --max-time 2 -H 'Content-Type: application/json' \
			--data '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"istanbul_getValidators\",\"params\":[\"latest\"]}' \
			$(rpc_url "$i") | grep -q '$new'" ||
			die "quorum-$i: the new quorum-3 is not a validator ($(validators "$i" | tr '\n' ' '); $(qp_status_line "$i"))"
	done
	[ "$(nvalidators 0)" = 4 ] || die "validators: $(validators 0 | tr '\n' ' ')"
	grep -q "$old" <<<"$(validators 0)" && die "the old identity is still a validator"
	for i in 0 1 2; do
		qp_wait 30 candidates_empty "$i" ||
			die "quorum-$i did not discard its votes: $(rpc "$i" istanbul_candidates)"
	done
	note "old quorum-3 voted out, the new one voted in: 4 validators"
	flow ibft_replace 0 1 2 3
}

# raft 5 -> 4: quorum-4 is stopped and the others are restarted one at a
# time with NODE_NUMBER=4: the leader's daemon removes quorum-4 (a live
# majority stays); the network of 4 runs the flow.
case_shrink() {
	local i ids pid
	form 5 raft
	pid=$(qp_pid 4) || die "quorum-4 is not running"
	for i in 0 1 2 3; do
		stop "$i"
		start "$i" 4 CONSENSUS=raft
		up "$i" 4
	done
	# quorum-4 is left running, to see its daemon stop its geth once
	# removed (if it leads, a follower proposes its removal: shrink_leader).
	for i in 0 1 2 3; do
		qp_wait 120 raft_formed "$i" 4 ||
			die "quorum-$i: not a raft network of 4 ($(rpc "$i" raft_cluster | jq_ raft-ids | tr '\n' ' '))"
	done
	ids=$(rpc 0 raft_cluster | jq_ raft-ids | sort -n | tr '\n' ' ')
	[ "$ids" = "1 2 3 4 " ] || die "raft IDs after the shrink: '$ids'"
	qp_wait 20 sh -c "! grep -q '\"ordinal\":4' '$(qp_dir 0)/network.json'" ||
		die "quorum-4 is still in quorum-0's record"
	note "quorum-4 removed: raft IDs $ids"
	# quorum-4 was left running: its daemon sees it is out of
	# the cluster, stops geth and exits 0, and a restart of it
	# serves "removed" without starting geth.
	qp_wait 60 sh -c "! kill -0 $pid 2>/dev/null" ||
		die "quorum-4's daemon still runs after its removal"
	grep -q 'removed from the raft cluster: stopping geth' \
		"$(qp_log 4)" ||
		die "quorum-4's daemon did not say it was removed"
	start 4 5 CONSENSUS=raft
	qp_wait 30 sh -c "curl -s --max-time 2 http://$(qp_ip 4)/status |
		grep -q '\"state\":\"removed\"'" ||
		die "restarted quorum-4 does not say removed: $(qp_status_line 4)"
	geth_pid 4 >/dev/null && die "removed quorum-4 started geth again"
	[ "$(qp_code 4 /readyz)" = 503 ] || die "removed quorum-4 is ready"
	note "quorum-4's daemon stopped its geth; restarted, it stays out"
	flow shrink 0 1 2 3
}

# leader_of N: the ordinal whose geth is the raft minter, among 0..N-1
# (asked of the nodes that answer; raft_role on the leader is safe).
leader_of() {
	local i
	for ((i = 0; i < $1; i++)); do
		[ "$(rpcr "$i" raft_role 2>/dev/null)" = minter ] && { echo "$i"; return 0; }
	done
	return 1
}

# raft 4 -> 3 where quorum-3, which goes, is the raft leader and keeps
# running: its daemon does not know it goes; the lowest live voter that
# stays proposes its removal; the removed leader's daemon stops
# its geth; the three left elect a leader and run the flow.
case_shrink_leader() {
	local i l tries pid ids
	form 4 raft
	# Make quorum-3 the leader: stop whoever leads (raft elects another
	# among the rest) and bring it back, until quorum-3 leads.
	for ((tries = 0; tries < 12; tries++)); do
		qp_wait 30 leader_of 4 >/dev/null || die "no raft leader"
		l=$(leader_of 4)
		[ "$l" = 3 ] && break
		stop "$l"
		qp_wait 30 sh -c "[ \"\$(curl -s --max-time 2 -H 'Content-Type: application/json' \
			--data '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"raft_leader\",\"params\":[]}' \
			$(rpc_url 3) | grep -c result)\" = 1 ]" || die "no new leader"
		start "$l" 4 CONSENSUS=raft
		up "$l" 4
	done
	[ "$(leader_of 4)" = 3 ] || die "quorum-3 never became the leader"
	note "quorum-3 leads ($tries leader changes)"
	pid=$(qp_pid 3) || die "quorum-3 is not running"
	for i in 2 1 0; do
		stop "$i"
		start "$i" 3 CONSENSUS=raft
		up "$i" 3
	done
	note "quorum-0..2 restarted with NODE_NUMBER=3, quorum-3 still leads"
	for i in 0 1 2; do
		qp_wait 120 raft_formed "$i" 3 ||
			die "quorum-$i: not a raft network of 3 ($(qp_status_line "$i"))"
	done
	ids=$(rpc 0 raft_cluster | jq_ raft-ids | sort -n | tr '\n' ' ')
	[ "$ids" = "1 2 3 " ] || die "raft IDs after the shrink: '$ids'"
	# the lowest live voter that stays, as its geth's raft_cluster said
	grep -l 'removing quorum-3 (raft ID 4, the leader)' "$(qp_log 0)" \
		"$(qp_log 1)" "$(qp_log 2)" >/dev/null ||
		die "no daemon that stays proposed the leader's removal"
	qp_wait 60 sh -c "! kill -0 $pid 2>/dev/null" ||
		die "quorum-3's daemon still runs after its removal"
	grep -q 'removed from the raft cluster: stopping geth' "$(qp_log 3)" ||
		die "quorum-3's daemon did not say it was removed"
	note "the leader quorum-3 removed on a follower's proposal; it stopped its geth"
	flow shrink_leader 0 1 2
}

# A member loses its volume: quorum-2 comes back with a new identity. Once
# the old one has been absent REPLACE_AFTER seconds, the leader's daemon
# removes it (its raft ID is never reused) and the new one joins.
case_replace() {
	local i ids old new
	form 3 raft REPLACE_AFTER=5
	old=$(qp_curl 2 /env.json | jq_ get node_id)
	stop 2
	rm -rf "$(qp_dir 2)"
	start 2 3 CONSENSUS=raft REPLACE_AFTER=5
	up 2 3 180
	new=$(qp_curl 2 /env.json | jq_ get node_id)
	[ "$new" != "$old" ] || die "quorum-2 kept its identity"
	for i in 0 1 2; do
		qp_wait 120 raft_formed "$i" 3 ||
			die "quorum-$i: not a raft network of 3 again"
	done
	ids=$(rpc 0 raft_cluster | jq_ raft-ids | sort -n | tr '\n' ' ')
	[ "$ids" = "1 2 4 " ] || die "raft IDs after the replacement: '$ids'"
	grep -q "$old" <<<"$(rpc 0 raft_cluster)" && die "the old identity is still in raft"
	note "quorum-2 replaced: old identity removed, new one is raft ID 4"
	flow replace 0 1 2
}

# raft 3 -> 4: a node started with NODE_NUMBER=4 beside a running network
# of 3 (untouched) joins it as a learner, is promoted to voter, and the
# flow runs on all four; restarted, it comes back as the same member.
case_join() {
	local i role
	form_beside 4 3 raft
	flow before 0 1 2
	start 3 4 CONSENSUS=raft
	up 3 4 120
	for i in 0 1 2 3; do
		qp_wait 120 raft_formed "$i" 4 ||
			die "quorum-$i's geth: not a raft network of 4 (role $(rpcr "$i" raft_role), peers $(peercount "$i"))"
	done
	role=$(rpcr 3 raft_role)
	[ "$role" = verifier ] || [ "$role" = minter ] ||
		die "quorum-3 is $role, not a voter"
	cmp -s "$(qp_dir 0)/genesis.json" "$(qp_dir 3)/genesis.json" ||
		die "quorum-3's genesis is not the network's"
	note "quorum-3 joined: raft of 4, quorum-3 a $role"
	flow join 0 1 2 3
	stop 3
	start 3 4 CONSENSUS=raft
	up 3 4
	qp_wait 120 raft_formed 3 4 || die "quorum-3 did not come back as a member"
	flow rejoin 3 0
}

case_raft3() {
	form 3 raft
	flow raft3 0 1 2
}

case_ibft4() {
	form 4 istanbul
	flow ibft4 0 1 2 3
}

# A first `geth init` that dies part way must not leave the node broken:
# the daemon exits non-zero and its next start, with the real geth, runs
# geth init again and joins the network (a daemon that took the existing
# chaindata for an initialised chain would start geth on it, and geth
# would write the mainnet genesis there and never find a peer).
#
# How init is made to die part way (honestly): node 0's first GETH_BIN is
# a wrapper that, for `init`, runs the REAL geth init on a copy of the
# genesis with "txnSizeLimit": 200, which geth refuses only after it has
# opened (created) dd/geth/chaindata and before it writes anything
# (SetupGenesisBlock's IsValid) - what an init killed between those two
# steps leaves - and then exits 137, as a SIGKILLed init would. A real
# SIGKILL in that window is a race of microseconds no script wins
# reliably. Should a geth check the limit before opening its database, the
# wrapper makes the empty chaindata directory itself (and says so).
case_init_killed() {
	local n=3 i u code w=$QP_STATE/killer
	mkdir -p "$w"
	cat >"$w/geth" <<-EOF || die "cannot write the init wrapper"
		#!/bin/sh
		for a; do last=\$a; done
		case " \$* " in
		*" init "*)
			t=\$(mktemp) || exit 1
			sed 's/"txnSizeLimit": *64/"txnSizeLimit": 200/' "\$last" >"\$t"
			"$GETH" --datadir "\$2" init "\$t"
			rm -f "\$t"
			if [ ! -d "\$2/geth/chaindata" ]; then
				echo "init-killer: geth made no chaindata; making it" >&2
				mkdir -p "\$2/geth/chaindata"
			fi
			echo "init-killer: geth init stopped with chaindata open: exit 137" >&2
			exit 137 ;;
		esac
		exec "$GETH" "\$@"
	EOF
	chmod 0755 "$w/geth"
	net "$n"
	start 0 "$n" CONSENSUS=raft GETH_BIN="$w/geth"
	for i in 1 2; do start "$i" "$n" CONSENSUS=raft; done
	u=$(cat "$(qp_pidfile 0).unshare")
	qp_wait 120 sh -c "! kill -0 $u 2>/dev/null" ||
		die "quorum-0 kept running after its geth init died"
	wait "$u"
	code=$?
	[ "$code" != 0 ] || die "quorum-0 exited 0 after its geth init died"
	grep -q 'geth init failed (exit 137)' "$(qp_log 0)" ||
		die "quorum-0 does not log its failed geth init"
	[ -e "$(qp_dir 0)/dd/geth/chaindata/CURRENT" ] ||
		die "the real geth left no LevelDB in chaindata (nothing to prove)"
	[ ! -e "$(qp_dir 0)/geth-init.done" ] ||
		die "geth-init.done written though init died"
	note "quorum-0: geth init stopped with chaindata open, daemon exited $code"
	for i in 1 2; do up "$i" "$n"; done
	start 0 "$n" CONSENSUS=raft
	up 0 "$n"
	for ((i = 0; i < n; i++)); do
		qp_wait 120 raft_formed "$i" "$n" ||
			die "quorum-$i's geth is not in a raft network of $n (peers: $(peercount "$i"))"
	done
	note "restarted quorum-0 joined the raft network of $n"
	flow init_killed 0 1 2
	grep -q 'geth init done' "$(qp_log 0)" ||
		die "quorum-0's restart did not run geth init"
}

# A formed node restarts while another member is down: it must not wait
# for the missing peer (DESIGN §11: a formed node never waits for peers).
case_restart_minority() {
	local h0 h1 pid
	form 3 raft
	flow before 0 1 2
	h0=$(height 0) || die "no block height from quorum-0"
	qp_node_down 2
	qp_ns_empty 2 || die "quorum-2 did not stop"
	note "quorum-2 stopped (namespace removed; stays down)"
	stop 0
	note "quorum-0 stopped (SIGTERM, every process gone)"
	start 0 3 CONSENSUS=raft
	pid=$(qp_pid 0) || die "restarted quorum-0 is not running"
	note "quorum-0 restarted (same data dir, same namespace), pid $pid"
	up 0 3 120
	note "restarted quorum-0: /readyz 200, geth answers at block $(height 0)"
	qp_wait 60 has_peer 0 ||
		die "restarted quorum-0's geth has no peer (quorum-1 is up)"
	flow after 0 1
	h1=$(height 0) || die "no block height from quorum-0"
	[ "$h1" -gt "$h0" ] ||
		die "quorum-0's block height did not advance ($h0 before, $h1 after the flow)"
	note "quorum-0's block height advanced: $h0 -> $h1"
	qp_pid 2 >/dev/null && die "quorum-2 runs again"
	return 0
}

# Every node stops; all start again at one instant and find their chain.
case_restart_all() {
	local n=3 i addr before=() h
	form "$n" raft
	flow before 0 1 2
	addr=$(flow_contract before)
	[ -n "$addr" ] || die "no contract address in the flow's output"
	for ((i = 0; i < n; i++)); do
		before[i]=$(height "$i") || die "no block height from quorum-$i"
	done
	note "heights before: ${before[*]}"
	for ((i = 0; i < n; i++)); do
		kill -TERM "$(qp_pid "$i")" || die "quorum-$i is not running"
	done
	for ((i = 0; i < n; i++)); do
		qp_wait 60 qp_ns_empty "$i" || die "quorum-$i did not stop on SIGTERM"
	done
	note "all $n stopped (SIGTERM)"
	qp_gate_open || die "cannot make the start gate"
	for ((i = 0; i < n; i++)); do start "$i" "$n" CONSENSUS=raft; done
	qp_gate_wait "$n"
	qp_gate_go
	note "all $n started at the same moment"
	for ((i = 0; i < n; i++)); do up "$i" "$n" 180; done
	for ((i = 0; i < n; i++)); do
		qp_wait 120 raft_formed "$i" "$n" ||
			die "restarted quorum-$i's geth did not rejoin the raft network (peers: $(peercount "$i"))"
		h=$(height "$i") || die "no block height from quorum-$i"
		[ "$h" -ge "${before[i]}" ] ||
			die "quorum-$i's chain lost blocks: height ${before[i]} before, $h after"
	done
	note "every node back: raft of $n, heights kept (>= ${before[*]})"
	flow after --read "$addr=7" 0 1 2
}

case_dnsmode() {
	local n=3 i hosts
	form "$n" raft ADDRESS_MODE=dns
	hosts=$(jq_ enode-hosts "$(qp_dir 0)/dd/static-nodes.json" | tr '\n' ' ')
	[ "$hosts" = "quorum-0 quorum-1 quorum-2 " ] ||
		die "ADDRESS_MODE=dns: enode hosts are \"$hosts\""
	note "static-nodes.json names quorum-0, quorum-1, quorum-2"
	flow dnsmode 0 1 2
}

# /status's geth and network objects and /metrics agree with what geth
# answers itself (DESIGN §6). Raft makes no block without a transaction, so
# after the flow the chain stands still and the daemon's figures (polled
# every few seconds) must settle on geth's own, block height included
# (--slack 0: on this idle chain "within a couple of blocks" would let a
# height stuck at 0 pass after the flow's 2 blocks); each node is given 60 s.
case_status() {
	local n=3 i out
	form "$n" raft
	flow status 0 1 2
	for ((i = 0; i < n; i++)); do
		out=$QP_STATE/status-check-$i.log
		qp_wait 60 status_agrees "$i" "$n" "$out" || {
			sed 's/^/      /' "$out"
			die "quorum-$i's /status or /metrics disagree with its geth"
		}
		sed -n '1s/^/      /p' "$out"
		note "quorum-$i: /status geth+network and /metrics agree with geth ($(grep -c '^ok' "$out") checks)"
	done
}

# status_agrees I N OUT: one comparison (status.mjs), its output in OUT.
status_agrees() {
	local d=$QP_STATE/st-$1
	mkdir -p "$d"
	qp_curl "$1" /status >"$d/status.json" 2>"$3" || return 1
	qp_curl "$1" /metrics >"$d/metrics.txt" 2>>"$3" || return 1
	node "$here/status.mjs" --rpc "$(rpc_url "$1")" --members "$2" --slack 0 \
		--genesis "$(qp_dir "$1")/genesis.json" \
		--status "$d/status.json" --metrics "$d/metrics.txt" >"$3" 2>&1
}

# A stopped geth (alive, not answering) makes the node not ready; the
# daemon itself stays healthy; a continued geth makes it ready again.
case_sigstop() {
	local n=3 i=1 gp code
	form "$n" raft
	gp=$(geth_pid "$i") || die "no geth in $(qp_ns "$i")"
	trap 'kill -CONT '"$gp"' 2>/dev/null' EXIT
	kill -STOP "$gp" || die "cannot stop geth ($gp)"
	note "quorum-$i's geth (pid $gp) stopped with SIGSTOP"
	qp_wait 20 not_ready "$i" ||
		die "quorum-$i /readyz still $(qp_code "$i" /readyz) 20 s after its geth was stopped, want 503"
	note "quorum-$i /readyz 503 ($(qp_curl_body "$i" /readyz))"
	code=$(qp_code "$i" /healthz)
	[ "$code" = 200 ] || die "quorum-$i /healthz is $code while geth is stopped, want 200"
	grep -q '^T' <(awk '{print $3}' "/proc/$gp/stat") ||
		die "geth ($gp) is no longer stopped: the daemon must not kill or restart it"
	note "quorum-$i /healthz 200 while geth is stopped"
	kill -CONT "$gp" || die "cannot continue geth ($gp)"
	qp_wait 30 ready "$i" ||
		die "quorum-$i /readyz is $(qp_code "$i" /readyz) 30 s after SIGCONT, want 200"
	[ "$(geth_pid "$i")" = "$gp" ] || die "quorum-$i runs another geth than pid $gp"
	note "quorum-$i /readyz 200 again after SIGCONT (same geth)"
}
has_peer() {
	local p
	p=$(peercount "$1") && [ "$p" -ge 1 ]
}
not_ready() { [ "$(qp_code "$1" /readyz)" = 503 ]; }
qp_curl_body() {
	ip netns exec "$(qp_ns "$1")" curl -sS --max-time 5 \
		"http://$(qp_host "$1")/${2#/}" 2>/dev/null | head -c 200 | tr '\n' ' '
}

# --- runner -----------------------------------------------------------------
qp_run_cases "$@"
