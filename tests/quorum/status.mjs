// Compares a node's /status and /metrics with what its geth answers itself
// (DESIGN §6), for tests/quorum/run.sh's `status` case.
//
//   node status.mjs --rpc URL --members N --genesis FILE \
//       --status status.json --metrics metrics.txt [--slack B]
//
// /status must have
//   geth:    {"block", "peers", "syncing", "raft": {"id", "role", "leader",
//            "members"}, "validators", "validator"}
//   network: {"state", "genesis", "members"}
// block within B (default 2) of eth_blockNumber, peers = net_peerCount, syncing =
// eth_syncing != false, raft.role = raft_role, raft.members = the length of
// raft_cluster (a count or a list), raft.id = this node's raftId in
// raft_cluster, raft.leader = raft_leader (its node ID, raft ID or ordinal),
// validators/validator null (raft); network.state formed (or member),
// network.genesis = 0x + keccak256 of genesis.json's bytes, network.members
// the N ordinals. /metrics: peerd_geth_up 1, peerd_geth_block_height within
// B of eth_blockNumber, peerd_geth_peers = net_peerCount,
// peerd_network_members N. One line per check ("ok" or "FAIL"); exit 1 if
// any fails.
import { readFileSync } from "node:fs";
import { FetchRequest, JsonRpcProvider, Network, keccak256 } from "ethers";

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
}
for (const k of ["rpc", "members", "genesis", "status", "metrics"]) {
  if (args[k] === undefined) {
    console.error(`status.mjs: --${k} is required`);
    process.exit(2);
  }
}
const N = Number(args.members);
const SLACK = args.slack === undefined ? 2 : Number(args.slack);
let failures = 0;
const ok = (m) => console.log(`ok   ${m}`);
const bad = (m) => {
  failures++;
  console.log(`FAIL ${m}`);
};
const check = (cond, m) => (cond ? ok(m) : bad(m));
const J = (v) => JSON.stringify(v);

const req = new FetchRequest(args.rpc);
req.timeout = 10_000;
const provider = new JsonRpcProvider(req, Network.from(10), {
  staticNetwork: true,
  batchMaxCount: 1,
});
const rpc = (m, p = []) => provider.send(m, p);

let status;
try {
  status = JSON.parse(readFileSync(args.status, "utf8"));
} catch (e) {
  bad(`/status is not JSON: ${e.message}`);
  process.exit(1);
}
const metricsText = readFileSync(args.metrics, "utf8");
const metric = (name) => {
  let v;
  for (const line of metricsText.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) v = (v ?? 0) + Number(m[3]);
  }
  return v;
};

// What geth says, asked after /status was fetched.
const gBlock = Number(BigInt(await rpc("eth_blockNumber")));
const gPeers = Number(BigInt(await rpc("net_peerCount")));
const gSyncing = (await rpc("eth_syncing")) !== false;
const gRole = await rpc("raft_role");
const gCluster = await rpc("raft_cluster");
const gLeader = String(await rpc("raft_leader")).replace(/^0x/, "").toLowerCase();
// admin_nodeInfo.id is the keccak of the key in geth 1.9; the enode URL
// carries the key itself, as raft_cluster's nodeId does.
const gSelf = (/^enode:\/\/([0-9a-fA-F]{128})@/.exec((await rpc("admin_nodeInfo")).enode) || [, ""])[1].toLowerCase();
const idOf = (e) => String(e.nodeId ?? e.nodeID ?? "").replace(/^0x/, "").toLowerCase();
const self = gCluster.find((e) => idOf(e) === gSelf);
const leader = gCluster.find((e) => idOf(e) === gLeader);
console.log(
  `geth: block ${gBlock}, peers ${gPeers}, syncing ${gSyncing}, raft_role ${gRole}, ` +
    `raft_cluster ${gCluster.length} (self raftId ${self?.raftId}, leader raftId ${leader?.raftId})`,
);

const g = status.geth;
if (!g || typeof g !== "object") {
  bad(`/status has no geth object (geth: ${J(g)})`);
} else {
  check(
    Number.isInteger(g.block) && Math.abs(g.block - gBlock) <= SLACK,
    `geth.block ${J(g.block)} within ${SLACK} of eth_blockNumber ${gBlock}`,
  );
  check(g.peers === gPeers, `geth.peers ${J(g.peers)} = net_peerCount ${gPeers}`);
  check(g.syncing === gSyncing, `geth.syncing ${J(g.syncing)} = eth_syncing ${gSyncing}`);
  const r = g.raft;
  if (!r || typeof r !== "object") {
    bad(`geth.raft is not an object on a raft node: ${J(r)}`);
  } else {
    check(r.role === gRole, `geth.raft.role ${J(r.role)} = raft_role ${J(gRole)}`);
    const rm = Array.isArray(r.members) ? r.members.length : r.members;
    check(rm === gCluster.length, `geth.raft.members ${J(r.members)} ~ raft_cluster length ${gCluster.length}`);
    check(
      self !== undefined && r.id === self.raftId,
      `geth.raft.id ${J(r.id)} = this node's raftId in raft_cluster ${J(self?.raftId)}`,
    );
    const l = r.leader;
    const leaderOk =
      l !== null &&
      l !== undefined &&
      ((typeof l === "string" && l.replace(/^(enode:\/\/|0x)/, "").toLowerCase().startsWith(gLeader)) ||
        (typeof l === "number" && leader !== undefined && (l === leader.raftId || l === leader.raftId - 1)));
    check(leaderOk, `geth.raft.leader ${J(l)} is raft_leader (${gLeader.slice(0, 16)}…, raftId ${leader?.raftId})`);
  }
  check(g.validators === null, `geth.validators ${J(g.validators)} is null on raft`);
  check(g.validator === null, `geth.validator ${J(g.validator)} is null on raft`);
}

const nw = status.network;
if (!nw || typeof nw !== "object") {
  bad(`/status has no network object (network: ${J(nw)})`);
} else {
  check(nw.state === "formed" || nw.state === "member", `network.state ${J(nw.state)} is formed (or member)`);
  const want = keccak256(readFileSync(args.genesis));
  check(nw.genesis === want, `network.genesis ${J(nw.genesis)} = keccak256(genesis.json) ${want}`);
  const ms = Array.isArray(nw.members) ? [...nw.members].sort((a, b) => a - b) : null;
  check(
    ms !== null && J(ms) === J([...Array(N).keys()]),
    `network.members ${J(nw.members)} are the ordinals 0…${N - 1}`,
  );
  check(ms !== null && ms.length === gCluster.length, `network.members count = raft_cluster length ${gCluster.length}`);
}

const up = metric("peerd_geth_up");
check(up === 1, `/metrics peerd_geth_up ${up} = 1`);
const mh = metric("peerd_geth_block_height");
check(
  mh !== undefined && Math.abs(mh - gBlock) <= SLACK,
  `/metrics peerd_geth_block_height ${mh} within ${SLACK} of eth_blockNumber ${gBlock}`,
);
const mp = metric("peerd_geth_peers");
check(mp === gPeers, `/metrics peerd_geth_peers ${mp} = net_peerCount ${gPeers}`);
const mm = metric("peerd_network_members");
check(mm === N, `/metrics peerd_network_members ${mm} = ${N}`);

process.exit(failures ? 1 : 0);
