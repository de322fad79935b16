#!/bin/sh
# Interop tests (called by scripts/test.sh): identities created by
# quorum-peerd are read back with independent implementations -- ethers
# (keystore v3, secp256k1, EIP-55, the peer document's signature) and
# tweetnacl (the TM's Curve25519 key pair).
#   PEERD=/path/to/quorum-peerd tests/interop/run.sh [test files...]
# Needs node >= 20 and npm (npm ci installs the locked ethers and tweetnacl).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PEERD=${PEERD:-$here/../../build/quorum-peerd}
case $PEERD in /*) ;; *) PEERD=$(pwd)/$PEERD ;; esac
if [ ! -x "$PEERD" ]; then
	echo "interop: no executable quorum-peerd at $PEERD (set PEERD)" >&2
	exit 1
fi
export PEERD

# Reinstall when node_modules is missing or older than the lock file.
stamp=$here/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ "$here/package-lock.json" -nt "$stamp" ] ||
	[ ! -d "$here/node_modules/ethers" ] ||
	[ ! -d "$here/node_modules/tweetnacl" ]; then
	echo "== npm ci"
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

cd "$here"
[ $# -gt 0 ] || set -- identity.test.mjs lifecycle.test.mjs
echo "== node --test $* (PEERD=$PEERD)"
exec node --test --test-reporter=spec "$@"
