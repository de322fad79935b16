#!/bin/sh
# Interop tests (called by scripts/test.sh): identities created by
# quorum-peerd are read back with independent implementations -- ethers
# (keystore v3, secp256k1, EIP-55, the peer document's signature) and
# tweetnacl (the TM's Curve25519 key pair).
#   PEERD=/path/to/quorum-peerd tests/interop/run.sh [test files...]
# Then, unless test files are named, mutants.sh proves the checks can fail
# (INTEROP_MUTANTS=0 skips it).
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
mutants=${INTEROP_MUTANTS:-1}
[ $# -gt 0 ] && mutants=0 # only a chosen subset: skip the mutants
[ $# -gt 0 ] || set -- identity.test.mjs lifecycle.test.mjs
echo "== node --test $* (PEERD=$PEERD)"
node --test --test-reporter=spec "$@" || exit 1

# The checks must be able to fail: mutants of the binary must be caught.
if [ "$mutants" != 0 ]; then
	echo "== mutants"
	sh "$here/mutants.sh" || exit 1
fi
