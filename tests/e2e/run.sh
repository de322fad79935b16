#!/bin/bash
# Docker end-to-end test: builds docker/Dockerfile (against stand-in geth and
# TM images made from tests/stubs) and runs
#   (a) docker/docker-compose.yml: 4 nodes converge to identical
#       static-nodes.json and genesis.json; node 0 reaches node 3's /env.sh
#   (b) `compose stop` ends every node within its grace period with an
#       expected exit code; `up` again keeps every identity
#   (c) StatefulSet-shaped containers (host quorum-<i>, domain
#       quorum.default.svc.cluster.local, ADDRESS_MODE=dns) converge with
#       host names in static-nodes.json
#   (d) the image runs as non-root, with NET_BIND_SERVICE as its only
#       capability
#   (f) Tessera's two image layouts (bin/tessera from 21.x, the uber jar
#       up to 21.4) both run through docker/tessera.sh, and a Tessera 22+
#       stand-in on the H2 1.4 database a 21.x one left stops the node
#       with the line that says so
#   (e) the image built with the REAL GoQuorum geth (QUORUM_GETH, default
#       ../shared/quorum/geth beside the repository; the `minimal` target,
#       PRIVACY=none): 3 raft nodes in a generated compose file form a
#       network and tests/quorum/flow.mjs (solc + ethers) deploys, reads and
#       sets a contract over their JSON-RPC from this host. Where there is no
#       real geth, (e) prints "not run" and the script exits 3 if nothing
#       else failed: not run is not passed.
#
#   tests/e2e/run.sh            everything
#   tests/e2e/run.sh build      only the base image and the image builds
#
# Needs root (or a docker group member) and Docker's engine: dockerd is
# started if none answers, and stopped again at the end. No registry is
# needed: if debian:bookworm-slim cannot be pulled it is made with
# debootstrap from the Debian mirror this machine's apt uses (and kept as a
# cache). Environment:
#   E2E_TIMEOUT      seconds to wait for convergence (default 300)
#   E2E_KEEP_IMAGES  1 = keep the images built here (faster reruns)
#   E2E_STOP_CODES   exit codes accepted after `stop` (default "0 143")
#   E2E_CONTEXT      build context (default: the repository root)
#   QUORUM_GETH      the real geth for (e) (default ../shared/quorum/geth)
# ok() always succeeds, so "A && ok || bad" is an if/else.
# shellcheck disable=SC2015
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
context=${E2E_CONTEXT:-$root}
timeout=${E2E_TIMEOUT:-300}
stop_codes=${E2E_STOP_CODES:-0 143}
what=${1:-all}

tag=quorum-peerd-e2e
base=debian:bookworm-slim
project=qpe2e$$
net=qpe2e$$-net
work=$(mktemp -d "${TMPDIR:-/tmp}/e2e.XXXXXX")
dockerd_pid=
compose=()
compose_cmd=()
real_compose=()
build_args=()
real_geth=${QUORUM_GETH:-$root/../shared/quorum/geth}
real_not_run=
passed=0
failed=0

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'e2e: %s\n' "$*" >&2; exit 1; }
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }

cleanup() {
	set +e
	if [ ${#compose[@]} -gt 0 ]; then
		"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1
	fi
	if [ ${#real_compose[@]} -gt 0 ]; then
		"${real_compose[@]}" down -v --remove-orphans >/dev/null 2>&1
	fi
	docker ps -aq --filter "label=qpe2e=$project" | xargs -r docker rm -fv >/dev/null 2>&1
	docker network rm "$net" >/dev/null 2>&1
	docker volume rm "$project-h2" "$project-h2new" >/dev/null 2>&1
	if [ "${E2E_KEEP_IMAGES:-0}" != 1 ]; then
		docker rmi "$tag:latest" "$tag:quorum-standin" \
			"$tag:tessera-standin" "$tag:build" "$tag:real" \
			"$tag:quorum-real" "$tag:tessera-jar-standin" \
			"$tag:jar" >/dev/null 2>&1
		# The classic builder leaves untagged stage images: remove the
		# ones that were not there before.
		docker images -q -f dangling=true | sort >"$work/dangling.after"
		[ -f "$work/dangling.before" ] &&
			comm -13 "$work/dangling.before" "$work/dangling.after" |
			xargs -r docker rmi >/dev/null 2>&1
	fi
	rm -rf "$work"
	if [ -n "$dockerd_pid" ]; then
		kill "$dockerd_pid" 2>/dev/null
		wait "$dockerd_pid" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ engine -----
start_engine() {
	if docker info >/dev/null 2>&1; then
		return
	fi
	command -v dockerd >/dev/null || die "no docker engine and no dockerd"
	log "starting dockerd (log: $work/dockerd.log)"
	dockerd >"$work/dockerd.log" 2>&1 &
	dockerd_pid=$!
	for _ in $(seq 60); do
		docker info >/dev/null 2>&1 && return
		kill -0 "$dockerd_pid" 2>/dev/null ||
			die "dockerd exited: $(tail -n 5 "$work/dockerd.log")"
		sleep 1
	done
	die "dockerd did not answer within 60 s"
}

find_compose() {
	if docker compose version >/dev/null 2>&1; then
		compose_cmd=(docker compose)
	elif command -v docker-compose >/dev/null; then
		compose_cmd=(docker-compose)
	else
		die "neither 'docker compose' nor docker-compose (Debian: apt-get install docker-compose)"
	fi
	compose=("${compose_cmd[@]}" -p "$project" -f "$root/docker/docker-compose.yml")
}

# ---------------------------------------------------- apt mirrors --------
# The first URI this machine's apt uses for a suite (one-line and deb822
# sources). Nothing about mirrors is written in the repository.
apt_uri_for_suite() {
	local suite=$1 f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v s="$suite" '
			$1 == "deb" {
				i = 2
				if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) == s) { print $i; exit }
			}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v s="$suite" '
			function flush() {
				if (deb && uri != "" && (" " suites " ") ~ (" " s " "))
					{ print uri; found = 1; exit }
				deb = 0; uri = ""; suites = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^Types:/ { deb = ($0 ~ /[ \t]deb([ \t]|$)/) }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { $1 = ""; suites = $0 }
			END { if (!found) flush() }' "$f"
	done | head -n 1
}

# ------------------------------------------------------- base image ------
base_image() {
	if docker image inspect "$base" >/dev/null 2>&1; then
		log "$base present"
		return
	fi
	if docker pull "$base" >/dev/null 2>&1; then
		log "$base pulled"
		return
	fi
	command -v debootstrap >/dev/null ||
		die "cannot pull $base and debootstrap is not installed"
	[ -n "$apt_mirror" ] || die "no Debian mirror found in this machine's apt sources"
	log "making $base with debootstrap from $apt_mirror"
	local rootfs=$work/rootfs
	debootstrap --variant=minbase bookworm "$rootfs" "$apt_mirror" \
		>"$work/debootstrap.log" 2>&1 ||
		die "debootstrap failed: $(tail -n 5 "$work/debootstrap.log")"
	# Trim as the official slim image does.
	rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
		"$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
		"$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log
	tar -C "$rootfs" -c . |
		docker import -c 'CMD ["bash"]' - "$base" >/dev/null
	rm -rf "$rootfs"
}

# ------------------------------------------------------------ images -----
build_images() {
	build_args=(--network host -f "$context/docker/Dockerfile"
		--build-arg "APT_MIRROR=$apt_mirror"
		--build-arg "APT_SECURITY_MIRROR=$apt_security")
	local args=("${build_args[@]}")
	# Without buildx the classic builder is used; the Dockerfile needs no
	# BuildKit feature.
	docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0

	log "building the build stage (compiles, runs the unit tests)"
	docker build -q --force-rm "${args[@]}" --target build -t "$tag:build" "$context" \
		>"$work/build.log" 2>&1 ||
		die "build stage failed: $(tail -n 20 "$work/build.log")"

	# Stand-ins for the official images, with their layout: geth at
	# /usr/local/bin/geth, the Tessera distribution's start script at
	# /tessera/bin/tessera (21.x and newer); and Tessera's older layout,
	# the uber jar /tessera/tessera-app.jar alone (up to 21.4), whose
	# stand-in brings the java that runs it (fake-tm as JAVA_HOME's java:
	# it takes `-jar .../tessera-app.jar ARGS` as the jar would).
	log "building stand-in geth and TM images"
	mkdir -p "$work/standin"
	cat >"$work/standin/Dockerfile.quorum" <<-EOF
		FROM $tag:build AS stubs
		FROM $base
		COPY --from=stubs /src/build/fake-geth /usr/local/bin/geth
	EOF
	cat >"$work/standin/Dockerfile.tessera" <<-EOF
		FROM $tag:build AS stubs
		FROM $base
		COPY --from=stubs /src/build/fake-tm /tessera/bin/tessera
	EOF
	docker build -q -f "$work/standin/Dockerfile.quorum" \
		-t "$tag:quorum-standin" "$work/standin" >/dev/null
	docker build -q -f "$work/standin/Dockerfile.tessera" \
		-t "$tag:tessera-standin" "$work/standin" >/dev/null
	cat >"$work/standin/Dockerfile.tessera-jar" <<-EOF
		FROM $tag:build AS stubs
		FROM $base
		COPY --from=stubs /src/build/fake-tm /tessera/jre/bin/java
		RUN echo 'a stand-in: run by /tessera/jre/bin/java' \
			>/tessera/tessera-app.jar
	EOF
	docker build -q -f "$work/standin/Dockerfile.tessera-jar" \
		-t "$tag:tessera-jar-standin" "$work/standin" >/dev/null

	log "building the node image"
	docker build --force-rm "${args[@]}" \
		--build-arg "QUORUM_IMAGE=$tag:quorum-standin" \
		--build-arg "TESSERA_IMAGE=$tag:tessera-standin" \
		-t "$tag:latest" "$context" >"$work/image.log" 2>&1 ||
		die "image build failed: $(tail -n 20 "$work/image.log")"
	ok "image builds ($(docker image inspect -f '{{.Size}}' "$tag:latest" |
		awk '{ printf "%.0f MB", $1 / 1e6 }'))"
	docker build --force-rm "${args[@]}" \
		--build-arg "QUORUM_IMAGE=$tag:quorum-standin" \
		--build-arg "TESSERA_IMAGE=$tag:tessera-jar-standin" \
		-t "$tag:jar" "$context" >"$work/image-jar.log" 2>&1 ||
		die "image build (Tessera jar layout) failed: $(tail -n 20 "$work/image-jar.log")"
	ok "image builds with a Tessera image of the jar layout"
}

# ---------------------------------------------------------- helpers ------
# Waits until every container named is healthy; fails early when one stops.
wait_healthy() {
	local deadline=$((SECONDS + timeout)) c st all
	while :; do
		all=yes
		for c in "$@"; do
			st=$(docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$c")
			case $st in
			running/healthy) ;;
			running/*) all=no ;;
			*)
				docker logs --tail 30 "$c" >&2 || true
				bad "$c is $st before converging"
				return 1
				;;
			esac
		done
		[ $all = yes ] && return 0
		if [ $SECONDS -ge $deadline ]; then
			for c in "$@"; do
				printf -- '--- %s\n' "$c" >&2
				docker logs --tail 15 "$c" >&2 || true
			done
			bad "not all healthy within ${timeout}s"
			return 1
		fi
		sleep 2
	done
}

# Same file on every container, non-empty.
same_file() {
	local file=$1 first='' c sum
	shift
	for c in "$@"; do
		sum=$(docker exec "$c" sha256sum "$file" 2>/dev/null | cut -d' ' -f1) ||
			{ bad "$(docker inspect -f '{{.Name}}' "$c") has no $file"; return 1; }
		if [ -z "$first" ]; then
			first=$sum
		elif [ "$sum" != "$first" ]; then
			bad "$file differs between $1 and $c"
			return 1
		fi
	done
	ok "$file identical on $# nodes"
}

container_of() { "${compose[@]}" ps -q "$1"; }

# node_id of every node, from its own /env.json, and the node IDs in the
# peer list it rendered (addresses may change: containers get new IPs).
identities() {
	local c
	for c in "$@"; do
		docker exec "$c" quorum-peerd probe http://localhost/env.json |
			grep -o '"node_id":"[0-9a-f]*"' || echo "no-env.json"
	done
	docker exec "$1" cat /qdata/dd/static-nodes.json | grep -o 'enode://[0-9a-f]*'
}

# ------------------------------------------------------------ tests ------
test_compose() {
	log "(a) docker compose: 4 nodes"
	export PEERD_IMAGE=$tag:latest KEYSTORE_KDF=light RPC_PUBLISH=127.0.0.1:
	"${compose[@]}" up -d --no-build >"$work/compose.log" 2>&1 ||
		die "compose up failed: $(tail -n 20 "$work/compose.log")"
	local cs=() i
	for i in 0 1 2 3; do cs+=("$(container_of quorum-$i)"); done
	wait_healthy "${cs[@]}" || return 1
	ok "4 compose nodes ready"
	same_file /qdata/dd/static-nodes.json "${cs[@]}"
	same_file /qdata/genesis.json "${cs[@]}"
	local n
	n=$(docker exec "${cs[0]}" grep -o 'enode://' /qdata/dd/static-nodes.json | wc -l)
	[ "$n" -eq 4 ] && ok "static-nodes.json lists 4 nodes" ||
		bad "static-nodes.json lists $n nodes"
	if "${compose[@]}" exec -T quorum-0 quorum-peerd probe http://quorum-3/env.sh \
		>"$work/env3.sh"; then
		ok "quorum-0 probes http://quorum-3/env.sh"
	else
		bad "quorum-0 cannot probe http://quorum-3/env.sh"
	fi

	log "(b) stop within the grace period, identities kept"
	identities "${cs[@]}" >"$work/id.before"
	local t0=$SECONDS code
	"${compose[@]}" stop >/dev/null 2>&1
	local took=$((SECONDS - t0))
	[ $took -lt 60 ] && ok "compose stop took ${took}s (< 60s grace)" ||
		bad "compose stop took ${took}s"
	for c in "${cs[@]}"; do
		code=$(docker inspect -f '{{.State.ExitCode}}' "$c")
		case " $stop_codes " in
		*" $code "*) ok "$(docker inspect -f '{{.Name}}' "$c") exited $code" ;;
		*) bad "$(docker inspect -f '{{.Name}}' "$c") exited $code (want one of $stop_codes)" ;;
		esac
	done
	"${compose[@]}" up -d --no-build >>"$work/compose.log" 2>&1 ||
		die "compose up (again) failed"
	wait_healthy "${cs[@]}" || return 1
	identities "${cs[@]}" >"$work/id.after"
	if [ "$(grep -c '"node_id"' "$work/id.before")" -ne 4 ] ||
		! grep -q 'enode://' "$work/id.before"; then
		bad "no identities to compare (env.json or static-nodes.json missing)"
	elif cmp -s "$work/id.before" "$work/id.after"; then
		ok "identities unchanged after restart"
	else
		diff "$work/id.before" "$work/id.after" >&2 || true
		bad "identities changed after restart"
	fi
	"${compose[@]}" down -v >/dev/null 2>&1
}

test_statefulset_shape() {
	log "(c) StatefulSet-shaped: host names, ADDRESS_MODE=dns"
	local domain=quorum.default.svc.cluster.local i cs=()
	docker network create "$net" >/dev/null
	for i in 0 1 2 3; do
		cs+=("$(docker run -d --label "qpe2e=$project" \
			--name "$project-quorum-$i" --network "$net" \
			--hostname "quorum-$i" --domainname "$domain" \
			--network-alias "quorum-$i.$domain" \
			--cap-drop ALL --cap-add NET_BIND_SERVICE \
			--security-opt no-new-privileges:true \
			--health-cmd 'quorum-peerd probe http://localhost/readyz' \
			--health-interval 2s \
			-e NODE_NUMBER=4 -e NODE_PREFIX=quorum- \
			-e NODE_DOMAIN="$domain" -e ADDRESS_MODE=dns \
			-e KEYSTORE_KDF=light "$tag:latest")")
	done
	wait_healthy "${cs[@]}" || return 1
	ok "4 StatefulSet-shaped nodes ready"
	same_file /qdata/dd/static-nodes.json "${cs[@]}"
	same_file /qdata/genesis.json "${cs[@]}"
	local nodes
	nodes=$(docker exec "${cs[0]}" cat /qdata/dd/static-nodes.json)
	for i in 0 1 2 3; do
		case $nodes in
		*"@quorum-$i.$domain:"*) ok "static-nodes.json names quorum-$i.$domain" ;;
		*) bad "static-nodes.json lacks quorum-$i.$domain" ;;
		esac
	done

	log "(d) non-root, one capability"
	local uid capeff
	uid=$(docker exec "${cs[0]}" id -u)
	[ "$uid" != 0 ] && ok "runs as uid $uid" || bad "runs as root"
	uid=$(docker run --rm --entrypoint id "$tag:latest" -u)
	[ "$uid" = 1000 ] && ok "image user is uid 1000" || bad "image user is uid $uid"
	# Under no-new-privileges Docker leaves a non-root process no
	# capability at all (0); without it, the file capability gives
	# CAP_NET_BIND_SERVICE (0x400). Never anything more.
	capeff=$(docker exec "${cs[0]}" awk '/^CapEff/ { print $2 }' /proc/1/status)
	case $capeff in
	0000000000000000 | 0000000000000400) ok "PID 1 capabilities: $capeff" ;;
	*) bad "PID 1 CapEff is $capeff" ;;
	esac

	# The file capability alone must open port 80, as on a Kubernetes node
	# whose runtime keeps low ports privileged: without no-new-privileges,
	# with the sysctl at the kernel's default.
	local c
	c=$(docker run -d --label "qpe2e=$project" --hostname quorum-0 \
		--cap-drop ALL --cap-add NET_BIND_SERVICE \
		--sysctl net.ipv4.ip_unprivileged_port_start=1024 \
		--health-interval 2s -e NODE_NUMBER=1 -e LAUNCH=no \
		-e KEYSTORE_KDF=light "$tag:latest")
	if wait_healthy "$c"; then
		ok "port 80 bound through the file capability"
	fi
	capeff=$(docker exec "$c" awk '/^CapEff/ { print $2 }' /proc/1/status)
	[ "$capeff" = 0000000000000400 ] &&
		ok "file capability gives CAP_NET_BIND_SERVICE alone" ||
		bad "file capability: CapEff is $capeff"
}

# ---------------------------------------------- (f) Tessera layouts -----
# tm_node IMAGE VOLUME [-e VAR=value...]: one node (NODE_NUMBER=1) with
# Tessera on VOLUME; its container id.
tm_node() {
	local image=$1 vol=$2
	shift 2
	docker run -d --label "qpe2e=$project" --hostname quorum-0 \
		--cap-drop ALL --cap-add NET_BIND_SERVICE \
		--sysctl net.ipv4.ip_unprivileged_port_start=0 \
		--health-cmd 'quorum-peerd probe http://localhost/readyz' \
		--health-interval 2s -v "$vol:/qdata" \
		-e NODE_NUMBER=1 -e PRIVACY=tessera -e KEYSTORE_KDF=light \
		-e FAKE_LOG=/qdata/fake.log "$@" "$image"
}

# docker/tessera.sh runs either image layout; a Tessera 22+ given the H2
# 1.4 database an older one left stops the node with a line saying so.
test_tessera_layouts() {
	log "(f) Tessera image layouts and the H2 upgrade"
	local c code vol=$project-h2
	c=$(tm_node "$tag:jar" "$vol" -e JAVA_HOME=/tessera/jre \
		-e JAVA_OPTS=-Xmx256m -e FAKE_TESSERA_VERSION=21.1.0)
	if wait_healthy "$c"; then
		grep -q '^TESSERA launcher jar /tessera/tessera-app.jar' \
			<<<"$(docker exec "$c" cat /qdata/fake.log)" &&
			ok "(f) the jar layout (Tessera <= 21.4) runs with java -jar" ||
			bad "(f) the jar layout: no 'TESSERA launcher jar' in the stand-in's log"
	fi
	docker stop -t 60 "$c" >/dev/null 2>&1
	docker rm -fv "$c" >/dev/null 2>&1
	# The same data dir under a Tessera 24 image (bin/tessera, H2 2.x).
	c=$(tm_node "$tag:latest" "$vol")
	local t=$((SECONDS + 120))
	while [ "$(docker inspect -f '{{.State.Status}}' "$c")" = running ] &&
		[ $SECONDS -lt $t ]; do
		sleep 1
	done
	code=$(docker inspect -f '{{.State.ExitCode}}' "$c")
	if [ "$(docker inspect -f '{{.State.Status}}' "$c")" = exited ] &&
		[ "$code" != 0 ] &&
		grep -q 'is an H2 1.4 database (Tessera 21.x and older), which Tessera 22 and newer cannot open' \
			<<<"$(docker logs "$c" 2>&1)"; then
		ok "(f) Tessera 24 on a 21.x database: exit $code, the H2 line"
	else
		docker logs --tail 15 "$c" >&2 || true
		bad "(f) Tessera 24 on a 21.x database: status $(docker inspect -f '{{.State.Status}}' "$c"), exit $code, no H2 line"
	fi
	docker rm -fv "$c" >/dev/null 2>&1
	c=$(tm_node "$tag:latest" "$project-h2new")
	if wait_healthy "$c"; then
		grep -q '^TESSERA launcher bin' <<<"$(docker exec "$c" cat /qdata/fake.log)" &&
			ok "(f) the bin/tessera layout (Tessera 21+) runs" ||
			bad "(f) the bin layout: no 'TESSERA launcher bin' in the stand-in's log"
	fi
	docker rm -fv "$c" >/dev/null 2>&1
	docker volume rm "$vol" "$project-h2new" >/dev/null 2>&1
}

# ------------------------------------------------- (e) real geth -------
# rpc_ip IP METHOD: the result of a JSON-RPC call to geth at IP:8545, from
# this host (strings bare); fails on an error or no answer.
rpc_ip() {
	curl -fsS --max-time 5 -H 'Content-Type: application/json' \
		--data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":[]}" \
		"http://$1:8545" 2>/dev/null |
		python3 -c 'import json, sys
d = json.load(sys.stdin)
r = d.get("result")
sys.exit(1) if "error" in d or r is None else print(r)'
}

# raft_member IP N: geth at IP is a raft minter or verifier with N-1 peers.
raft_member() {
	local role peers
	role=$(rpc_ip "$1" raft_role) || return 1
	case $role in minter | verifier) ;; *) return 1 ;; esac
	peers=$(rpc_ip "$1" net_peerCount) || return 1
	[ $((peers)) -eq $(($2 - 1)) ]
}

test_real_geth() {
	log "(e) the real GoQuorum geth: 3 raft nodes, PRIVACY=none, contract flow"
	if [ ! -f "$real_geth" ] || [ ! -x "$real_geth" ]; then
		real_not_run="no real geth at $real_geth (set QUORUM_GETH)"
		printf 'not run: (e) real geth: %s\n' "$real_not_run"
		return 0
	fi
	local qdir=$root/tests/quorum rdir=$work/real i c ip cs=() ips=() t
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		bad "(e) needs node and npm for tests/quorum/flow.mjs (scripts/deps.sh node)"
		return 1
	fi
	if [ ! -d "$qdir/node_modules/solc" ] || [ ! -d "$qdir/node_modules/ethers" ]; then
		log "npm ci in tests/quorum"
		(cd "$qdir" && npm ci --no-audit --no-fund --loglevel=error) >"$work/npm.log" 2>&1 ||
			{ bad "(e) npm ci failed: $(tail -n 5 "$work/npm.log")"; return 1; }
	fi

	# An image with the official ones' layout, holding the real geth.
	mkdir -p "$rdir"
	cp "$real_geth" "$rdir/geth"
	cat >"$rdir/Dockerfile.quorum" <<-EOF
		FROM $base
		COPY geth /usr/local/bin/geth
	EOF
	docker build -q -f "$rdir/Dockerfile.quorum" -t "$tag:quorum-real" "$rdir" \
		>"$work/real-quorum.log" 2>&1 ||
		{ bad "(e) geth image: $(tail -n 5 "$work/real-quorum.log")"; return 1; }
	log "building the node image with the real geth (target minimal: no TM)"
	docker build --force-rm "${build_args[@]}" --target minimal \
		--build-arg "QUORUM_IMAGE=$tag:quorum-real" \
		-t "$tag:real" "$context" >"$work/real-image.log" 2>&1 ||
		{ bad "(e) image build: $(tail -n 20 "$work/real-image.log")"; return 1; }
	if grep -q '^Quorum Version:' \
		<<<"$(docker run --rm --entrypoint geth "$tag:real" version 2>/dev/null)"; then
		ok "(e) image with the real geth builds ($(docker run --rm --entrypoint geth "$tag:real" version |
			sed -n 's/^Quorum Version: /Quorum /p'))"
	else
		bad "(e) the image's geth is not GoQuorum's"
		return 1
	fi

	# Three raft nodes, each its own volume, PRIVACY=none.
	cat >"$rdir/docker-compose.yml" <<-EOF
		version: "3.8"
		x-node: &node
		  image: $tag:real
		  command: ["run"]
		  environment:
		    NODE_NUMBER: "3"
		    NODE_PREFIX: quorum-
		    CONSENSUS: raft
		    PRIVACY: none
		    KEYSTORE_KDF: light
		    STOP_TIMEOUT: "25"
		    RPC_APIS: eth,net,web3,txpool,raft
		  cap_drop: [ALL]
		  cap_add: [NET_BIND_SERVICE]
		  security_opt: ["no-new-privileges:true"]
		  sysctls:
		    net.ipv4.ip_unprivileged_port_start: 0
		  init: false
		  labels:
		    qpe2e: $project
		  healthcheck:
		    test: ["CMD", "quorum-peerd", "probe", "http://localhost/readyz"]
		    interval: 2s
		    timeout: 5s
		    retries: 3
		    start_period: 120s
		  stop_grace_period: 60s
		  restart: "no"
		services:
		  quorum-0:
		    <<: *node
		    hostname: quorum-0
		    volumes: ["quorum-0:/qdata"]
		  quorum-1:
		    <<: *node
		    hostname: quorum-1
		    volumes: ["quorum-1:/qdata"]
		  quorum-2:
		    <<: *node
		    hostname: quorum-2
		    volumes: ["quorum-2:/qdata"]
		volumes:
		  quorum-0:
		  quorum-1:
		  quorum-2:
	EOF
	real_compose=("${compose_cmd[@]}" -p "${project}real" -f "$rdir/docker-compose.yml")
	"${real_compose[@]}" up -d --no-build >"$work/real-compose.log" 2>&1 ||
		{ bad "(e) compose up: $(tail -n 20 "$work/real-compose.log")"; return 1; }
	for i in 0 1 2; do
		cs+=("$("${real_compose[@]}" ps -q "quorum-$i")")
	done
	wait_healthy "${cs[@]}" || return 1
	ok "(e) 3 nodes with the real geth ready"
	for c in "${cs[@]}"; do
		ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$c")
		[ -n "$ip" ] || { bad "(e) no address for container $c"; return 1; }
		ips+=("$ip")
	done
	for i in 0 1 2; do
		t=$((SECONDS + 120))
		until raft_member "${ips[i]}" 3; do
			if [ $SECONDS -ge $t ]; then
				docker logs --tail 20 "${cs[i]}" >&2 || true
				bad "(e) quorum-$i's geth (${ips[i]}:8545) is not a raft member with 2 peers within 120 s"
				return 1
			fi
			sleep 1
		done
	done
	ok "(e) raft network of 3 formed (every geth: minter or verifier, 2 peers)"
	if node "$qdir/flow.mjs" --timeout 120 "http://${ips[0]}:8545" \
		"http://${ips[1]}:8545" "http://${ips[2]}:8545" >"$work/flow.log" 2>&1; then
		sed 's/^/     /' "$work/flow.log"
		ok "(e) contract flow on the real geth: deploy 42, read on 3 nodes, set 7, read 7"
	else
		sed 's/^/     /' "$work/flow.log"
		for c in "${cs[@]}"; do
			printf -- '--- %s\n' "$c" >&2
			docker logs --tail 15 "$c" >&2 || true
		done
		bad "(e) contract flow on the real geth"
	fi
	# The real geth stops on SIGTERM within the grace period.
	local code
	"${real_compose[@]}" stop >/dev/null 2>&1
	for i in 0 1 2; do
		code=$(docker inspect -f '{{.State.ExitCode}}' "${cs[i]}")
		case " $stop_codes " in
		*" $code "*) ok "(e) quorum-$i with the real geth stopped, exit $code" ;;
		*) bad "(e) quorum-$i with the real geth exited $code after stop (want one of $stop_codes)" ;;
		esac
	done
	"${real_compose[@]}" down -v >/dev/null 2>&1
}

# -------------------------------------------------------------- main -----
[ -f "$context/docker/Dockerfile" ] || die "no docker/Dockerfile in $context"
start_engine
docker images -q -f dangling=true | sort >"$work/dangling.before"
apt_mirror=$(apt_uri_for_suite bookworm)
apt_security=$(apt_uri_for_suite bookworm-security)
log "apt mirror: ${apt_mirror:-none} security: ${apt_security:-none}"
base_image
build_images
if [ "$what" != build ]; then
	find_compose
	test_compose || true
	test_statefulset_shape || true
	test_tessera_layouts || true
	test_real_geth || true
fi
printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ] || exit 1
if [ -n "$real_not_run" ]; then
	printf 'not run: (e) %s\n' "$real_not_run"
	exit 3
fi
