#!/usr/bin/env bash
# A local quorum-peerd cluster on network namespaces: no containers, no
# shared files, the same discovery as in Docker or Kubernetes. Needs root.
#
#   scripts/local-cluster.sh up N [--launch|--no-launch]
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
# with the same N starts whatever is not running; a different N needs `down`.
#
# Settings in the environment are passed to every node: CONSENSUS, PRIVACY,
# ADDRESS_MODE, CHAIN_ID, PERMISSIONED, KEYSTORE_KDF (default here: light),
# CLUSTER_SECRET, DISCOVERY_TIMEOUT, STOP_TIMEOUT, GETH_ARGS, TM_ARGS,
# GETH_BIN, TM_BIN, LOG_FORMAT, LOG_LEVEL and the *_PORT variables.
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
	CLUSTER_SECRET CLUSTER_SECRET_FILE ACCOUNT_PASSWORD_FILE
	DISCOVERY_TIMEOUT STOP_TIMEOUT GETH_ARGS TM_ARGS GETH_BIN TM_BIN
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
			qp_die "a cluster of $old nodes is up: run \`$0 down\` first"
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

	env_args=(NODE_NUMBER="$n" NODE_PREFIX="$QP_PREFIX" HTTP_PORT=80
		LAUNCH="$launch" KEYSTORE_KDF="${KEYSTORE_KDF:-light}"
		PATH="$PATH")
	for v in "${pass_vars[@]}"; do
		[ "$v" = KEYSTORE_KDF ] && continue
		[ -n "${!v+x}" ] && env_args+=("$v=${!v}")
	done
	# What the nodes were started with (no secret), for `status` and reruns.
	{
		printf 'NODE_NUMBER=%s\nLAUNCH=%s\nPEERD=%s\n' "$n" "$launch" \
			"$QP_PEERD"
	} >"$QP_STATE/cluster.env"

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

cmd_status() {
	local ords i any=""
	ords=$(qp_list_ordinals)
	if [ -z "$ords" ]; then
		say "no cluster is up (no namespaces ${QP_NS}*)"
		return 1
	fi
	for i in $ords; do
		qp_status_line "$i"
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
status) cmd_status ;;
down) shift; cmd_down "$@" ;;
exec) shift; cmd_exec "$@" ;;
logs) shift; cmd_logs "$@" ;;
-h | --help | help) usage 0 ;;
*) usage 2 ;;
esac
