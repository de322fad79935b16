#!/usr/bin/env bash
# A local quorum-peerd cluster on network namespaces: no containers, no
# shared files, the same discovery as in Docker or Kubernetes. Needs root.
#
#   scripts/local-cluster.sh up N [--launch|--no-launch]
#   scripts/local-cluster.sh scale M          (grow or shrink to M nodes)
#   scripts/local-cluster.sh status
#   scripts/local-cluster.sh exec I CMD...    (run CMD as node I)
#   scripts/local-cluster.sh logs I           (node I's log)
#   scripts/local-cluster.sh down [--keep]
#
# `up` builds quorum-peerd if needed (cmake into build/), creates namespaces
# qp-0 … qp-<N-1> on the bridge br-qp in 10.213.0.0/16 (host side 10.213.0.1;
# node i at 10.213.<1+i/200>.<10+i%200>), each with the host name quorum-<i>
# and a hosts file naming every node, and starts one daemon per namespace
# with DATA_DIR=$QP_STATE/quorum-<i> (default /tmp/qp-cluster), its log in
# $QP_STATE/logs and its pid in $QP_STATE/pids. geth and the TM are started
# (LAUNCH=yes) when geth is on PATH, else LAUNCH=no (configs only);
# --launch insists on it, --no-launch never launches. Running `up` again
# with the same N starts whatever is not running; a different N needs `down`
# (or `scale`).
#
# `scale M` changes the size of a running cluster the way `helm upgrade
# --set replicaCount=M` changes a StatefulSet (podManagementPolicy
# Parallel, rolling update): nodes M … N-1 are stopped first, all at once,
# their data kept in $QP_STATE (a retained PVC) and their names removed from
# every hosts file; new nodes N … M-1 get a namespace, a name every node
# resolves at once, and start together with NODE_NUMBER=M; scale waits for
# each to answer /readyz 200 (a joiner: once its geth runs). Then the
# nodes below min(N, M) are restarted one at a time, highest ordinal first,
# with NODE_NUMBER=M, each waiting for /readyz 200 before the next. A node
# that is not ready within READY_TIMEOUT seconds (default 300) stops the
# roll there, as it would stall a StatefulSet's; `status` says why.
# `scale N` with the current N restarts every node one at a time.
#
# Settings in the environment are passed to every node (at `up`, and again
# at `scale`, like the values of a `helm upgrade`): CONSENSUS, PRIVACY,
# ADDRESS_MODE, CHAIN_ID, PERMISSIONED, KEYSTORE_KDF (default here: light),
# VALIDATORS, REPLACE_AFTER, CLUSTER_SECRET, DISCOVERY_TIMEOUT,
# STOP_TIMEOUT, UNLOCK, RPC_ADDR, RPC_APIS, RPC_VHOSTS, RPC_CORS,
# WS_ORIGINS, GETH_ARGS, TM_ARGS, GETH_BIN, TM_BIN, LOG_FORMAT, LOG_LEVEL
# and the *_PORT variables.
# PEERD=path uses that binary instead of building. QP_NS, QP_BR, QP_NET and
# QP_STATE rename the namespaces, bridge, subnet and state dir.
#
# `down` stops every daemon and child, removes namespaces, veths, bridge and
# firewall rule, and the state dir (keys included) unless --keep.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/netns.sh
. "$root/scripts/lib/netns.sh"

pass_vars=(CONSENSUS PRIVACY ADDRESS_MODE CHAIN_ID PERMISSIONED KEYSTORE_KDF
	VALIDATORS REPLACE_AFTER
	CLUSTER_SECRET CLUSTER_SECRET_FILE ACCOUNT_PASSWORD_FILE
	DISCOVERY_TIMEOUT STOP_TIMEOUT UNLOCK RPC_ADDR RPC_APIS RPC_VHOSTS
	RPC_CORS WS_ORIGINS GETH_ARGS TM_ARGS GETH_BIN TM_BIN
	LOG_FORMAT LOG_LEVEL P2P_PORT RAFT_PORT RPC_PORT WS_PORT TM_PORT)

usage() {
	sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-2}"
}

say() { printf '%s\n' "$*" >&2; }

# The binary: $PEERD, else build/quorum-peerd, (re)built by cmake if needed.
find_peerd() {
	if [ -n "${PEERD:-}" ]; then
		[ -x "$PEERD" ] || qp_die "PEERD=$PEERD is not executable"
		QP_PEERD=$PEERD
		return
	fi
	# A fresh machine: install the compiler, cmake and the libraries.
	"$root/scripts/deps.sh" build cluster || qp_die "cannot install dependencies"
	if [ ! -f "$root/build/CMakeCache.txt" ]; then
		say "configuring build/"
		cmake -S "$root" -B "$root/build" >/dev/null ||
			qp_die "cmake configure failed"
	fi
	cmake --build "$root/build" --target quorum-peerd -j"$(nproc)" \
		>"$QP_STATE/build.log" 2>&1 || {
		tail -n 30 "$QP_STATE/build.log" >&2
		qp_die "build failed (log: $QP_STATE/build.log)"
	}
	QP_PEERD=$root/build/quorum-peerd
}

# Absolute paths only: the daemons run with another cwd.
abs() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }

# node_env N LAUNCH: the environment of every node, in env_args.
node_env() {
	local v
	env_args=(NODE_NUMBER="$1" NODE_PREFIX="$QP_PREFIX" HTTP_PORT=80
		LAUNCH="$2" KEYSTORE_KDF="${KEYSTORE_KDF:-light}"
		PATH="$PATH")
	for v in "${pass_vars[@]}"; do
		[ "$v" = KEYSTORE_KDF ] && continue
		[ -n "${!v+x}" ] && env_args+=("$v=${!v}")
	done
}

write_cluster_env() {
	printf 'NODE_NUMBER=%s\nLAUNCH=%s\nPEERD=%s\n' "$1" "$2" "$QP_PEERD" \
		>"$QP_STATE/cluster.env"
}

cmd_up() {
	local n=${1:-} launch=auto i env_args=() v running=0 started=0
	[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 1024 ] ||
		qp_die "up: N must be 1 to 1024 (got \"$n\")"
	shift
	for v in "$@"; do
		case "$v" in
		--launch) launch=yes ;;
		--no-launch) launch=no ;;
		*) qp_die "up: unknown option $v" ;;
		esac
	done
	qp_need_root
	QP_STATE=$(abs "$QP_STATE")
	if [ -f "$QP_STATE/cluster.env" ]; then
		local old
		old=$(sed -n 's/^NODE_NUMBER=//p' "$QP_STATE/cluster.env")
		if [ "$old" != "$n" ] && [ -n "$(qp_list_ordinals)" ]; then
			qp_die "a cluster of $old nodes is up: \`$0 scale $n\` resizes it, \`$0 down\` removes it"
		fi
	fi
	mkdir -p "$QP_STATE/logs" "$QP_STATE/pids" || qp_die "cannot create $QP_STATE"
	chmod 0700 "$QP_STATE"
	: >"$QP_STATE/.qp-cluster"
	find_peerd

	case "$launch" in
	yes) command -v "${GETH_BIN:-geth}" >/dev/null ||
		qp_die "--launch: ${GETH_BIN:-geth} is not on PATH" ;;
	auto) if command -v "${GETH_BIN:-geth}" >/dev/null; then
		launch=yes
	else
		launch=no
	fi ;;
	esac

	node_env "$n" "$launch"
	# What the nodes were started with (no secret), for `status` and reruns.
	write_cluster_env "$n" "$launch"

	qp_net_up "$n" || qp_die "cannot create the network"
	for ((i = 0; i < n; i++)); do
		if qp_pid "$i" >/dev/null; then
			running=$((running + 1))
			continue
		fi
		qp_start "$i" "${env_args[@]}" || qp_die "cannot start node $i"
		started=$((started + 1))
	done
	say "cluster of $n: started $started, already running $running" \
		"(LAUNCH=$launch, state in $QP_STATE)"
	# Wait (bounded) for the configs, so `up` returns a usable cluster.
	local limit=$((60 + n))
	if qp_wait "$limit" qp_all_written "$n"; then
		say "every node has written its configs"
	else
		say "not every node has its configs after $limit s; see \`$0 status\`"
	fi
	cmd_status
}

# hosts_set I TEXT: node I's hosts file, rewritten in place. `ip netns exec`
# bind-mounts /etc/netns/<ns>/hosts over /etc/hosts by inode when a process
# starts, so a renamed file would never reach the running daemon (and its
# geth): new names must resolve at once, as a StatefulSet's DNS does.
hosts_set() {
	local f pid
	f=/etc/netns/$(qp_ns "$1")/hosts
	if [ -f "$f" ]; then
		printf '%s\n' "$2" >"$f" || return 1
	else
		qp_node_files "$1" "$2" || return 1
	fi
	# A daemon started before this file was last replaced sees another one.
	if pid=$(qp_pid "$1") && [ -f "/proc/$pid/root/etc/hosts" ] &&
		! [ "/proc/$pid/root/etc/hosts" -ef "$f" ]; then
		printf '%s\n' "$2" >"/proc/$pid/root/etc/hosts" 2>/dev/null || :
	fi
	return 0
}

# net_resize M: namespaces 0..M-1 (new ones created, running ones kept),
# every hosts file naming exactly 0..M-1. Namespaces >= M are left to the
# caller (stopped first).
net_resize() {
	local m=$1 i hosts batch
	qp_bridge_up || qp_die "cannot create bridge $QP_BR"
	hosts=$(qp_hosts "$m")
	batch=$(qp_neigh_batch "$m")
	for ((i = 0; i < m; i++)); do
		qp_node_up "$i" && qp_node_neigh "$i" "$batch" &&
			hosts_set "$i" "$hosts" ||
			qp_die "cannot set up namespace $(qp_ns "$i")"
	done
}

ready() { [ "$(qp_code "$1" /readyz)" = 200 ]; }

# names A B: "quorum-A" or "quorum-A … quorum-B".
names() {
	if [ "$1" = "$2" ]; then
		qp_host "$1"
	else
		printf '%s … %s' "$(qp_host "$1")" "$(qp_host "$2")"
	fi
}

# stop_node I: SIGTERM to node I's daemon (as the kubelet sends it), then
# waits until every process of the node is gone: geth, then the TM, get
# STOP_TIMEOUT (default 25) s each, and the daemon 2 s more.
stop_node() {
	local pid limit=$((2 * ${STOP_TIMEOUT:-25} + 10))
	pid=$(qp_pid "$1") || return 0
	kill -TERM "$pid" 2>/dev/null
	qp_wait "$limit" qp_ns_empty "$1" ||
		qp_die "quorum-$1 did not stop within $limit s of SIGTERM"
}

# wait_ready I WHAT: /readyz 200 within READY_TIMEOUT, else stop the roll.
wait_ready() {
	local limit=${READY_TIMEOUT:-300} t0=$SECONDS
	if qp_wait "$limit" ready "$1"; then
		say "  $(qp_host "$1") ready ($2, $((SECONDS - t0)) s)"
		return 0
	fi
	status_line "$1" >&2
	qp_die "$(qp_host "$1") is not ready after $limit s: the rolling update stops here, as a StatefulSet's would (\`$0 status\`, \`$0 logs $1\`)"
}

cmd_scale() {
	local m=${1:-} n launch i pid env_args=() old_peerd
	[[ "$m" =~ ^[0-9]+$ ]] && [ "$m" -ge 1 ] && [ "$m" -le 1024 ] ||
		qp_die "scale: M must be 1 to 1024 (got \"$m\")"
	qp_need_root
	QP_STATE=$(abs "$QP_STATE")
	[ -f "$QP_STATE/cluster.env" ] && [ -n "$(qp_list_ordinals)" ] ||
		qp_die "scale: no cluster is up (\`$0 up N\` first)"
	n=$(sed -n 's/^NODE_NUMBER=//p' "$QP_STATE/cluster.env")
	launch=$(sed -n 's/^LAUNCH=//p' "$QP_STATE/cluster.env")
	old_peerd=$(sed -n 's/^PEERD=//p' "$QP_STATE/cluster.env")
	[[ "$n" =~ ^[0-9]+$ ]] || qp_die "scale: no NODE_NUMBER in $QP_STATE/cluster.env"
	if [ -n "${PEERD:-}" ]; then
		find_peerd
	elif [ -x "$old_peerd" ]; then
		QP_PEERD=$old_peerd
	else
		find_peerd
	fi
	node_env "$m" "$launch"
	write_cluster_env "$m" "$launch"

	# 1. Scale down: the condemned nodes go first, all at once (Parallel).
	if [ "$m" -lt "$n" ]; then
		say "scale $n -> $m: stopping $(names "$m" $((n - 1))) (data kept)"
		for ((i = n - 1; i >= m; i--)); do
			pid=$(qp_pid "$i") && kill -TERM "$pid" 2>/dev/null
		done
		for ((i = n - 1; i >= m; i--)); do
			stop_node "$i"
			qp_node_down "$i"
			rm -f "$(qp_pidfile "$i")"
		done
	fi
	# 2. Names: exactly 0..M-1 resolve, everywhere, at once.
	net_resize "$m"
	# 3. Scale up: the new nodes start together, and must become ready
	#    before any old one is rolled.
	if [ "$m" -gt "$n" ]; then
		say "scale $n -> $m: starting $(names "$n" $((m - 1))) with NODE_NUMBER=$m"
		for ((i = n; i < m; i++)); do
			qp_pid "$i" >/dev/null && continue
			qp_start "$i" "${env_args[@]}" || qp_die "cannot start node $i"
		done
		for ((i = m - 1; i >= n; i--)); do wait_ready "$i" "new"; done
	fi
	# 4. The rolling update: highest ordinal first, one at a time.
	local top=$((n < m ? n : m))
	say "rolling $(names $((top - 1)) 0) onto NODE_NUMBER=$m, one at a time"
	for ((i = top - 1; i >= 0; i--)); do
		stop_node "$i"
		qp_start "$i" "${env_args[@]}" || qp_die "cannot start node $i"
		wait_ready "$i" "restarted with NODE_NUMBER=$m"
	done
	say "cluster scaled to $m"
	cmd_status
}

# status_line I: qp_status_line plus the node's network state (and why it
# waits, if it does).
status_line() {
	local line json
	line=$(qp_status_line "$1") || {
		printf '%s\n' "$line"
		return 1
	}
	json=$(qp_curl "$1" /status 2>/dev/null) || {
		printf '%s\n' "$line"
		return 0
	}
	printf '%s' "$json" | "$QP_PY" -c '
import json, sys
line = sys.argv[1]
try:
    net = json.load(sys.stdin).get("network") or {}
except ValueError:
    net = {}
if net:
    line += " network=%s members=%d" % (net.get("state"), len(net.get("members") or []))
    if net.get("waiting"):
        line += " waiting: %s" % net["waiting"]
print(line)
' "$line"
}

cmd_status() {
	local ords i any=""
	ords=$(qp_list_ordinals)
	if [ -z "$ords" ]; then
		say "no cluster is up (no namespaces ${QP_NS}*)"
		return 1
	fi
	for i in $ords; do
		status_line "$i"
		any=$i
	done
	local first last
	first=$(printf '%s\n' "$ords" | head -n1)
	last=$(printf '%s\n' "$ords" | tail -n1)
	cat <<EOF

Try:
  ip netns exec $(qp_ns "$first") curl -s $(qp_host "$last")/env.sh
  ip netns exec $(qp_ns "$first") curl -s $(qp_host "$last")/status
  curl -s $(qp_ip "$any")/static-nodes.json        (from the host)
  $0 exec $first sh     (a shell as $(qp_host "$first"))
Logs: $QP_STATE/logs/   data: $QP_STATE/$(qp_host 0) …
EOF
}

cmd_down() {
	local keep=no
	[ "${1:-}" = --keep ] && keep=yes
	qp_need_root
	qp_all_down
	if [ "$keep" = no ] && [ -f "$QP_STATE/.qp-cluster" ]; then
		rm -rf -- "$QP_STATE"
		say "cluster removed (state dir $QP_STATE deleted)"
	else
		rm -f "$QP_STATE/pids/"*.pid 2>/dev/null
		say "cluster removed (state kept in $QP_STATE)"
	fi
}

cmd_exec() {
	local i=${1:-}
	[[ "$i" =~ ^[0-9]+$ ]] || qp_die "exec: give a node ordinal"
	shift
	[ $# -gt 0 ] || set -- sh
	qp_exec "$i" "$@"
}

cmd_logs() {
	local i=${1:-}
	[[ "$i" =~ ^[0-9]+$ ]] || qp_die "logs: give a node ordinal"
	cat "$(qp_log "$i")"
}

case "${1:-}" in
up) shift; cmd_up "$@" ;;
scale) shift; cmd_scale "$@" ;;
status) cmd_status ;;
down) shift; cmd_down "$@" ;;
exec) shift; cmd_exec "$@" ;;
logs) shift; cmd_logs "$@" ;;
-h | --help | help) usage 0 ;;
*) usage 2 ;;
esac
