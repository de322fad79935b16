#!/usr/bin/env python3
"""JSON/YAML helpers for tests/cluster/run.sh (stdlib, plus PyYAML if any).

  jcheck.py field KEY[.KEY]       < doc.json   value of a (nested) member
  jcheck.py fields KEY FILE...                  KEY of each file, one a line
  jcheck.py enode-ids FILE                      node IDs of the enode URLs
  jcheck.py enode-hosts FILE                    host part of the enode URLs
  jcheck.py peer ORDINAL           < status     "state attempts reason err"
  jcheck.py status-summary         < status     "phase discovered nodes ready"
  jcheck.py envsh-matches SHVALS JSONFILE       env.sh values == env.json
  jcheck.py compose FILE N                      compose file: N services
Exit 1 (with a message on stderr) when a check fails.
"""
import json
import re
import sys

ENODE = re.compile(r"^enode://([0-9a-f]{128})@([^:?]+):(\d+)")


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def enodes(path):
    with open(path) as f:
        doc = json.load(f)
    if not isinstance(doc, list):
        fail("%s: not a JSON array" % path)
    out = []
    for url in doc:
        m = ENODE.match(url) if isinstance(url, str) else None
        if not m:
            fail("%s: not an enode URL: %r" % (path, url))
        out.append(m)
    return out


def main():
    cmd = sys.argv[1]
    if cmd == "field":
        v = json.load(sys.stdin)
        for k in sys.argv[2].split("."):  # a.b: member b of member a
            v = v.get(k) if isinstance(v, dict) else None
        print("" if v is None else v)
    elif cmd == "fields":
        for path in sys.argv[3:]:
            with open(path) as f:
                v = json.load(f).get(sys.argv[2])
            print("" if v is None else v)
    elif cmd == "enode-ids":
        for m in enodes(sys.argv[2]):
            print(m.group(1))
    elif cmd == "enode-hosts":
        for m in enodes(sys.argv[2]):
            print(m.group(2))
    elif cmd == "peer":
        ordinal = int(sys.argv[2])
        for p in json.load(sys.stdin).get("peers", []):
            if p.get("ordinal") == ordinal:
                print(p.get("state"), p.get("attempts"), p.get("reason"),
                      json.dumps(p.get("last_error")))
                return
        fail("no peer %d in /status" % ordinal)
    elif cmd == "via":
        ordinal = int(sys.argv[2])
        for p in json.load(sys.stdin).get("peers", []):
            if p.get("ordinal") == ordinal:
                print(p.get("via"))
                return
        fail("no peer %d in /status" % ordinal)
    elif cmd == "status-summary":
        s = json.load(sys.stdin)
        print(s.get("phase"), s.get("discovered"), s.get("nodes"),
              "true" if s.get("ready") else "false")
    elif cmd == "envsh-matches":
        vals = {}
        with open(sys.argv[2]) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                vals[k] = v
        with open(sys.argv[3]) as f:
            doc = json.load(f)
        pairs = {"IP": "ip", "NODE_ID": "node_id", "ACCOUNT": "account",
                 "HOSTNAME": "name", "ORDINAL": "ordinal", "ENODE": "enode",
                 "TM_PUB": "tm_pub", "TM_URL": "tm_url",
                 "P2P_PORT": "p2p_port", "RAFT_PORT": "raft_port"}
        bad = []
        for k, j in pairs.items():
            if vals.get(k, "") != str(doc.get(j)) or vals.get(k, "") == "":
                bad.append("%s=%r vs %s=%r" % (k, vals.get(k), j,
                                                doc.get(j)))
        if bad:
            fail("env.sh and env.json differ: " + "; ".join(bad))
    elif cmd == "compose":
        path, n = sys.argv[2], int(sys.argv[3])
        try:
            import yaml
        except ImportError:
            print("no PyYAML: compose syntax not checked here",
                  file=sys.stderr)
            return
        with open(path) as f:
            doc = yaml.safe_load(f)
        services = doc.get("services") or {}
        names = sorted(services)
        want = sorted("quorum-%d" % i for i in range(n))
        if names != want:
            fail("%s: services %s, want %s" % (path, names, want))
    else:
        fail("unknown command " + cmd)


main()
