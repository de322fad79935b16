#!/bin/sh
# Chart tests (called by scripts/test.sh): render docker/helm/quorum with the
# Go renderer for several sets of values, validate the objects against the
# Kubernetes schemas and check the settings (check.mjs); prove the checker
# can fail by running it on mutated copies of the chart; if helm is on PATH,
# also helm lint and the same checks on `helm template`.
# Needs: golang-go, golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v2-dev,
# node + npm (npm ci installs the locked kubernetes-models and yaml).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
chart=$root/docker/helm/quorum
work=$(mktemp -d "${TMPDIR:-/tmp}/helm-test.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# Debian's Go packages live in /usr/share/gocode: build GOPATH-style, offline.
echo "== building the renderer"
(cd "$here/render" &&
	GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS='' GOPROXY=off \
	GOCACHE="$work/gocache" go build -o "$work/render" ./main.go)

if [ ! -d "$here/node_modules/kubernetes-models" ] ||
	[ ! -d "$here/node_modules/yaml" ]; then
	echo "== npm ci"
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "== checking the chart"
node "$here/check.mjs" --render "$work/render" --chart "$chart"

# Each mutation breaks one thing the checker must catch.
echo "== checking that mutated charts fail"
mutations='publishNotReadyAddresses: true|publishNotReadyAddresses: false
podManagementPolicy: Parallel|podManagementPolicy: OrderedReady
printf "%s-" (include "quorum.fullname" .)|printf "%s" (include "quorum.fullname" .)
containerPort: {{ .Values.ports.http }}|containerPort: "{{ .Values.ports.http }}"
path: /readyz|path: /healthz
- NET_BIND_SERVICE|- NET_ADMIN
clusterIP: None|type: ClusterIP
mountPath: /qdata|mountPath: /data
value: "0"|value: "1024"
key: {{ .Values.clusterSecret.key }}|key: cluster-secret-typo
- name: VALIDATORS|- name: VALIDATOR
{{ .Values.replaceAfter|{{ 300
type: RollingUpdate|type: OnDelete
with .Values.persistence.retentionPolicy }}|with .Values.persistence.retentionPolicyX }}
time onto NODE_NUMBER|time onto the new NODE_NUMBER'
n=0
bad=0
echo "$mutations" | {
	while IFS='|' read -r from to; do
		n=$((n + 1))
		m=$work/mut$n
		rm -rf "$m"
		cp -R "$chart" "$m"
		hit=no
		for f in "$m"/templates/* "$m"/values.yaml; do
			if grep -qF -- "$from" "$f"; then
				hit=yes
				FROM=$from TO=$to perl -0pi -e \
					's/\Q$ENV{FROM}\E/$ENV{TO}/g' "$f"
			fi
		done
		if [ "$hit" = no ]; then
			echo "mutation $n: '$from' not found in the chart"
			bad=$((bad + 1))
		elif node "$here/check.mjs" --render "$work/render" --chart "$m" \
			>"$m.out" 2>&1; then
			echo "mutation $n ($from -> $to): checker still passes"
			bad=$((bad + 1))
		else
			echo "mutation $n ($from -> $to): caught:" \
				"$(grep -m1 '^FAIL' "$m.out" || tail -n1 "$m.out")"
		fi
	done
	echo "$((n - bad)) passed, $bad failed"
	[ "$bad" -eq 0 ]
}

if command -v helm >/dev/null 2>&1; then
	echo "== helm lint and helm template"
	helm lint "$chart"
	helm lint "$chart" -f "$here/values/overrides.yaml"
	node "$here/check.mjs" --helm --chart "$chart"
else
	echo "== helm not on PATH: helm lint and helm template skipped"
fi
