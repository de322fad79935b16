// The contract flow against a running Quorum network (tests/quorum/run.sh,
// tests/e2e/run.sh): SimpleStorage compiled with solc (byzantium, the last
// fork geth 1.9.7's Quorum genesis knows), driven with ethers 6 over HTTP
// JSON-RPC, each node sending from its own unlocked account 0.
//
//   node flow.mjs [options] URL0 URL1 ... URLn-1
//
//   1. deploy SimpleStorage(42) from the first node, wait for its receipt;
//   2. get() on every node returns 42 (each polled until it has the block);
//   3. set(7) from the last node, wait for its receipt there;
//   4. get() on the first node returns 7.
//
// Options:
//   --live I,J,...      run the flow on those of the URLs only (0-based
//                       indexes into the URL list: the nodes that are up)
//   --read ADDR=VALUE   first check that an existing SimpleStorage at ADDR
//                       returns VALUE on every node (a restart kept the chain)
//   --timeout S         bound for each wait (default 120 s)
//   --chain-id N        the network's chain id (default 10, quorum-peerd's)
//
// Prints one line per step; a failing step prints one line starting with
// "FAIL" and the process exits 1 (2 for bad usage). On success the last line
// is "flow ok: contract <address> ..." and the exit code 0.
import { createRequire } from "node:module";
import { FetchRequest, Interface, JsonRpcProvider, Network } from "ethers";

const require = createRequire(import.meta.url);
const solc = require("solc");

const SOURCE = `// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.0;
contract SimpleStorage {
    uint public storedData;
    constructor(uint initVal) { storedData = initVal; }
    function set(uint x) public { storedData = x; }
    function get() public view returns (uint) { return storedData; }
}
`;

// Gas: Quorum's gas price is 0; an explicit limit keeps geth from estimating
// (deploying SimpleStorage takes about 130k, set() about 27k).
const GAS_DEPLOY = 1_000_000n;
const GAS_SET = 200_000n;

class StepError extends Error {}

function usage(msg) {
  if (msg) console.error(`flow: ${msg}`);
  console.error(
    "usage: node flow.mjs [--live I,J] [--read ADDR=VALUE] [--timeout S] [--chain-id N] URL...",
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = { urls: [], live: null, reads: [], timeout: 120, chainId: 10 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--live") {
      o.live = val()
        .split(",")
        .filter((s) => s !== "")
        .map((s) => {
          if (!/^\d+$/.test(s)) usage(`--live: not an index: ${s}`);
          return Number(s);
        });
    } else if (a === "--read") {
      const m = /^(0x[0-9a-fA-F]{40})=(\d+)$/.exec(val());
      if (!m) usage("--read wants ADDRESS=VALUE");
      o.reads.push({ address: m[1], value: BigInt(m[2]) });
    } else if (a === "--timeout") {
      o.timeout = Number(val());
      if (!(o.timeout > 0)) usage("--timeout wants seconds > 0");
    } else if (a === "--chain-id") {
      o.chainId = Number(val());
      if (!Number.isInteger(o.chainId) || o.chainId < 1) usage("bad --chain-id");
    } else if (a === "-h" || a === "--help") {
      usage();
    } else if (a.startsWith("--")) {
      usage(`unknown option ${a}`);
    } else {
      o.urls.push(a);
    }
  }
  if (o.urls.length === 0) usage("no node URL");
  if (o.live) {
    for (const k of o.live)
      if (k >= o.urls.length) usage(`--live: no URL number ${k}`);
    if (o.live.length === 0) usage("--live: no node");
  }
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function short(e) {
  const s = e?.shortMessage || e?.error?.message || e?.message || String(e);
  return s.split("\n")[0].slice(0, 300);
}

// poll(what, timeoutS, fn): calls fn until it returns something other than
// undefined, at most timeoutS seconds; the last error or "not yet" reason is
// in the failure line.
// fn(ctx) may set ctx.reason to say what it saw.
async function poll(what, timeoutS, fn) {
  const end = Date.now() + timeoutS * 1000;
  const ctx = { reason: "no answer" };
  for (let delay = 200; ; delay = Math.min(delay * 2, 2000)) {
    try {
      const v = await fn(ctx);
      if (v !== undefined) return v;
    } catch (e) {
      ctx.reason = short(e);
    }
    if (Date.now() >= end) throw new StepError(`${what} within ${timeoutS} s (last: ${ctx.reason})`);
    await sleep(delay);
  }
}

function compile() {
  const input = {
    language: "Solidity",
    sources: { "SimpleStorage.sol": { content: SOURCE } },
    settings: {
      evmVersion: "byzantium",
      optimizer: { enabled: false, runs: 200 },
      outputSelection: { "*": { SimpleStorage: ["abi", "evm.bytecode.object"] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (out.errors || []).filter((e) => e.severity === "error");
  if (errors.length)
    throw new StepError(`solc: ${errors.map((e) => e.formattedMessage).join("; ")}`);
  const c = out.contracts["SimpleStorage.sol"].SimpleStorage;
  return { abi: c.abi, bytecode: "0x" + c.evm.bytecode.object };
}

class Node {
  constructor(url, index, chainId) {
    this.url = url;
    this.index = index;
    const req = new FetchRequest(url);
    req.timeout = 15_000;
    // A fixed network: ethers then never retries detection forever on a
    // node that does not answer; every call fails or answers.
    this.provider = new JsonRpcProvider(req, Network.from(chainId), {
      staticNetwork: true,
      batchMaxCount: 1,
      polling: false,
    });
    this.name = `node ${index} (${url})`;
  }
  send(method, params) {
    return this.provider.send(method, params);
  }
  async account() {
    if (!this.from) {
      const accts = await this.send("eth_accounts", []);
      if (!Array.isArray(accts) || accts.length === 0)
        throw new StepError(`${this.name}: eth_accounts is empty`);
      this.from = accts[0];
    }
    return this.from;
  }
  async blockNumber() {
    return Number(BigInt(await this.send("eth_blockNumber", [])));
  }
  // sendTx: eth_sendTransaction from the node's unlocked account 0, legacy
  // form with gasPrice 0 (Quorum) and an explicit gas limit.
  async sendTx(tx) {
    const from = await this.account();
    const t = { from, gasPrice: "0x0", ...tx };
    return this.send("eth_sendTransaction", [t]);
  }
  async receipt(hash, timeoutS) {
    return poll(`${this.name}: no receipt for ${hash}`, timeoutS, async () => {
      const r = await this.send("eth_getTransactionReceipt", [hash]);
      return r ? r : undefined;
    });
  }
  async call(to, data) {
    return this.send("eth_call", [{ to, data }, "latest"]);
  }
}

function step(msg) {
  console.log(`flow: ${msg}`);
}

async function readOn(node, iface, address, want, timeoutS) {
  await poll(`${node.name}: get() is not ${want}`, timeoutS, async (ctx) => {
    const raw = await node.call(address, iface.encodeFunctionData("get", []));
    if (raw === "0x") {
      ctx.reason = "no code at the address yet";
      return undefined;
    }
    const [v] = iface.decodeFunctionResult("get", raw);
    ctx.reason = `get() = ${v}`;
    return v === want ? v : undefined;
  });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const all = o.urls.map((u, i) => new Node(u, i, o.chainId));
  const nodes = o.live ? o.live.map((k) => all[k]) : all;
  const first = nodes[0];
  const last = nodes[nodes.length - 1];
  const failures = [];
  const fail = (msg) => {
    failures.push(msg);
    console.log(`FAIL ${msg}`);
  };

  // 0. every node answers and has its account
  for (const n of nodes) {
    try {
      await poll(`${n.name}: JSON-RPC does not answer`, o.timeout, async () => n.account());
      const bn = await n.blockNumber();
      step(`${n.name}: account ${n.from}, block ${bn}`);
    } catch (e) {
      fail(`step 0 (${n.name} answers with an account): ${short(e)}`);
    }
  }
  if (failures.length) return 1;

  let iface, bytecode;
  try {
    const c = compile();
    iface = new Interface(c.abi);
    bytecode = c.bytecode;
    step(`compiled SimpleStorage with solc ${solc.version()} for byzantium (${(bytecode.length - 2) / 2} bytes)`);
  } catch (e) {
    fail(`compile: ${short(e)}`);
    return 1;
  }

  // An earlier contract still holds its value (e.g. after a restart).
  for (const r of o.reads) {
    for (const n of nodes) {
      try {
        await readOn(n, iface, r.address, r.value, o.timeout);
      } catch (e) {
        fail(`read ${r.address} on ${n.name}: ${short(e)}`);
      }
    }
    if (!failures.length) step(`existing contract ${r.address}: get() = ${r.value} on ${nodes.length} nodes`);
  }
  if (failures.length) return 1;

  // 1. deploy on the first node
  let address, deployBlock;
  try {
    const data = bytecode + iface.encodeDeploy([42n]).slice(2);
    const hash = await first.sendTx({ data, gas: "0x" + GAS_DEPLOY.toString(16) });
    step(`deploy sent from ${first.name}: ${hash}`);
    const rc = await first.receipt(hash, o.timeout);
    if (rc.status !== "0x1") throw new StepError(`deploy receipt status ${rc.status}`);
    if (!rc.contractAddress) throw new StepError("deploy receipt has no contractAddress");
    address = rc.contractAddress;
    deployBlock = Number(BigInt(rc.blockNumber));
    step(`deployed at ${address} in block ${deployBlock}`);
  } catch (e) {
    fail(`step 1 (deploy SimpleStorage(42) on ${first.name}): ${short(e)}`);
    return 1;
  }

  // 2. every node reads 42
  await Promise.all(
    nodes.map(async (n) => {
      try {
        await readOn(n, iface, address, 42n, o.timeout);
      } catch (e) {
        fail(`step 2 (get() = 42 on ${n.name}): ${short(e)}`);
      }
    }),
  );
  if (failures.length) return 1;
  step(`get() = 42 on all ${nodes.length} nodes`);

  // 3. set(7) from the last node
  let setBlock;
  try {
    const hash = await last.sendTx({
      to: address,
      data: iface.encodeFunctionData("set", [7n]),
      gas: "0x" + GAS_SET.toString(16),
    });
    step(`set(7) sent from ${last.name}: ${hash}`);
    const rc = await last.receipt(hash, o.timeout);
    if (rc.status !== "0x1") throw new StepError(`set receipt status ${rc.status}`);
    setBlock = Number(BigInt(rc.blockNumber));
    step(`set(7) mined in block ${setBlock}`);
  } catch (e) {
    fail(`step 3 (set(7) from ${last.name}): ${short(e)}`);
    return 1;
  }

  // 4. the first node reads 7
  try {
    await readOn(first, iface, address, 7n, o.timeout);
  } catch (e) {
    fail(`step 4 (get() = 7 on ${first.name}): ${short(e)}`);
    return 1;
  }
  step(`get() = 7 on ${first.name}`);
  console.log(`flow ok: contract ${address} deployed in block ${deployBlock}, set in block ${setBlock}, on ${nodes.length} nodes`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.log(`FAIL flow: ${short(e)}`);
    process.exit(1);
  },
);
