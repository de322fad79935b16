#!/usr/bin/env python3
"""JSON helpers for tests/quorum/run.sh (stdlib only).

  jq.py get PATH        < doc.json   value at PATH (a.b.0.c); "null" if absent
  jq.py len PATH        < doc.json   length of the list or object at PATH
  jq.py rpc-result      < answer     a JSON-RPC answer's result (exit 1 on error)
  jq.py hexint          < answer     a JSON-RPC answer's hex result, decimal
  jq.py raft-ids         < answer     raft_cluster's raft IDs, one a line
  jq.py enode-hosts FILE             host part of each enode URL in FILE
Strings print bare, everything else as compact JSON. Exit 1 with a message
on stderr when the input is not what is asked for.
"""
import json
import re
import sys


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def load(f=None):
    try:
        return json.load(f or sys.stdin)
    except ValueError as e:
        fail("not JSON: %s" % e)


def walk(doc, path):
    for part in [p for p in path.split(".") if p]:
        if isinstance(doc, list) and re.fullmatch(r"\d+", part):
            i = int(part)
            doc = doc[i] if i < len(doc) else None
        elif isinstance(doc, dict):
            doc = doc.get(part)
        else:
            return None
        if doc is None:
            return None
    return doc


def show(v):
    print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))


def rpc_result(doc):
    if not isinstance(doc, dict):
        fail("not a JSON-RPC answer")
    if doc.get("error") is not None:
        fail("JSON-RPC error: %s" % json.dumps(doc["error"]))
    if "result" not in doc:
        fail("JSON-RPC answer without result")
    return doc["result"]


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "get":
        show(walk(load(), sys.argv[2]))
    elif cmd == "len":
        v = walk(load(), sys.argv[2])
        if not isinstance(v, (list, dict)):
            fail("%s is not a list or object: %r" % (sys.argv[2], v))
        print(len(v))
    elif cmd == "rpc-result":
        show(rpc_result(load()))
    elif cmd == "hexint":
        v = rpc_result(load())
        if not isinstance(v, str) or not re.fullmatch(r"0x[0-9a-fA-F]+", v):
            fail("not a hex quantity: %r" % (v,))
        print(int(v, 16))
    elif cmd == "raft-ids":
        for m in rpc_result(load()):
            print(m["raftId"])
    elif cmd == "enode-hosts":
        with open(sys.argv[2]) as f:
            for url in load(f):
                m = re.match(r"^enode://[0-9a-f]{128}@([^:?]+):\d+", url)
                if not m:
                    fail("not an enode URL: %r" % (url,))
                print(m.group(1))
    else:
        fail(__doc__)


if __name__ == "__main__":
    main()
