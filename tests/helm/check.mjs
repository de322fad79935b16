// Checks the quorum chart: renders it for several sets of values (with the
// Go renderer in render/, or helm), validates every object against the
// Kubernetes schemas (kubernetes-models) and asserts the settings quorum-peerd
// relies on (DESIGN §10).
//
//   node check.mjs --render BIN --chart DIR [--helm] [--quiet]
//
// --helm renders with `helm template` instead of BIN. Exit 0 when every case
// passes. Last line: "N passed, N failed".

import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { Service, Secret } from "kubernetes-models/v1";
import { StatefulSet } from "kubernetes-models/apps/v1";

const here = path.dirname(fileURLToPath(import.meta.url));
const valuesDir = path.join(here, "values");

const args = process.argv.slice(2);
function opt(name) {
	const i = args.indexOf(name);
	return i >= 0 ? args[i + 1] : undefined;
}
const renderBin = opt("--render");
const chartDir = opt("--chart");
const useHelm = args.includes("--helm");
const quiet = args.includes("--quiet");
if (!chartDir || (!renderBin && !useHelm)) {
	console.error("usage: node check.mjs --render BIN --chart DIR [--helm] [--quiet]");
	process.exit(2);
}

const models = {
	"v1/Service": Service,
	"v1/Secret": Secret,
	"apps/v1/StatefulSet": StatefulSet,
};

class CheckError extends Error {}
function assert(cond, msg) {
	if (!cond) throw new CheckError(msg);
}
function eq(actual, expected, what) {
	const a = JSON.stringify(actual);
	const e = JSON.stringify(expected);
	assert(a === e, `${what}: expected ${e}, got ${a}`);
}

// Renders; returns {ok, out, err}. upgrade: as `helm upgrade` renders
// (.Release.IsUpgrade).
function render({ release, namespace, files, notes, upgrade }) {
	const vf = files.flatMap((f) => ["-f", path.join(valuesDir, f)]);
	let cmd, argv;
	if (useHelm) {
		cmd = "helm";
		argv = ["template", release, chartDir, "--namespace", namespace, ...vf];
		if (upgrade) argv.push("--is-upgrade");
	} else {
		cmd = renderBin;
		argv = ["-chart", chartDir, "-name", release, "-namespace", namespace, ...vf];
		if (notes) argv.push("-notes");
		if (upgrade) argv.push("-upgrade");
	}
	try {
		const out = execFileSync(cmd, argv, {
			encoding: "utf8",
			stdio: ["ignore", "pipe", "pipe"],
		});
		return { ok: true, out };
	} catch (e) {
		return { ok: false, out: e.stdout || "", err: String(e.stderr || e.message) };
	}
}

function parseDocs(text) {
	const docs = [];
	for (const d of parseAllDocuments(text)) {
		assert(d.errors.length === 0, `YAML error: ${d.errors.map((e) => e.message).join("; ")}`);
		const obj = d.toJS();
		if (obj === null || obj === undefined) continue;
		docs.push(obj);
	}
	return docs;
}

// Validates each object with its kubernetes-models class.
function validateAll(docs) {
	for (const obj of docs) {
		const key = `${obj.apiVersion}/${obj.kind}`;
		const Model = models[key];
		assert(Model, `unexpected object ${key} (${obj.metadata?.name})`);
		try {
			new Model(obj).validate();
		} catch (e) {
			throw new CheckError(`${key} ${obj.metadata?.name} fails the schema: ${e.message}`);
		}
	}
}

function envMap(container) {
	const m = new Map();
	for (const e of container.env || []) {
		assert(!m.has(e.name), `env ${e.name} set twice`);
		m.set(e.name, e);
	}
	return m;
}

function envValue(env, name) {
	const e = env.get(name);
	assert(e, `env ${name} missing`);
	assert(e.valueFrom === undefined, `env ${name} should be a plain value`);
	return e.value;
}

function portNumber(container, port) {
	if (typeof port === "number") return port;
	const p = (container.ports || []).find((x) => x.name === port);
	assert(p, `named port ${port} not declared by the container`);
	return p.containerPort;
}

// RFC 1123 label, as Kubernetes requires of pod host names.
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// The assertions shared by every successful case. exp: what the values ask for.
function checkChart(docs, exp) {
	validateAll(docs);
	const byKind = (k) => docs.filter((d) => d.kind === k);
	const svcs = byKind("Service");
	const stss = byKind("StatefulSet");
	const secrets = byKind("Secret");
	eq(svcs.length, 1, "number of Services");
	eq(stss.length, 1, "number of StatefulSets");
	eq(secrets.length, exp.secretRendered ? 1 : 0, "number of Secrets");

	const svc = svcs[0];
	const sts = stss[0];
	eq(sts.metadata.name, exp.fullname, "StatefulSet name");
	eq(svc.metadata.name, exp.fullname, "Service name");

	// Headless Service publishing not-ready pods.
	eq(svc.spec.clusterIP, "None", "Service clusterIP");
	eq(svc.spec.publishNotReadyAddresses, true, "Service publishNotReadyAddresses");
	const httpPort = (svc.spec.ports || []).find((p) => p.name === "http");
	assert(httpPort && httpPort.port === 80, "Service has no http port 80");

	// StatefulSet shape.
	eq(sts.apiVersion, "apps/v1", "StatefulSet apiVersion");
	eq(sts.spec.podManagementPolicy, "Parallel", "podManagementPolicy");
	eq(sts.spec.serviceName, svc.metadata.name, "serviceName = headless Service");
	eq(sts.spec.replicas, exp.replicas, "replicas");
	// Membership changes (README "Growing, shrinking and healing a
	// network"): a changed template rolls the old pods one at a time after
	// the new ones are ready; no maxUnavailable (it counts the joiner), no
	// partition (every old pod must get the new NODE_NUMBER).
	eq(sts.spec.updateStrategy?.type, "RollingUpdate", "updateStrategy.type");
	eq(sts.spec.updateStrategy?.rollingUpdate?.maxUnavailable, undefined,
		"updateStrategy.rollingUpdate.maxUnavailable");
	eq(sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0, 0,
		"updateStrategy.rollingUpdate.partition");
	// PVCs: Kubernetes' default (Retain) unless the values set a policy.
	eq(sts.spec.persistentVolumeClaimRetentionPolicy, exp.retention,
		"persistentVolumeClaimRetentionPolicy");
	const podLabels = sts.spec.template.metadata.labels;
	for (const [k, v] of Object.entries(sts.spec.selector.matchLabels)) {
		eq(podLabels[k], v, `pod label ${k} (selector)`);
	}
	for (const [k, v] of Object.entries(svc.spec.selector)) {
		eq(podLabels[k], v, `pod label ${k} (Service selector)`);
	}

	const pod = sts.spec.template.spec;
	eq(pod.containers.length, 1, "number of containers");
	const c = pod.containers[0];

	// Data volume from volumeClaimTemplates at DATA_DIR.
	const vcts = sts.spec.volumeClaimTemplates || [];
	eq(vcts.length, 1, "number of volumeClaimTemplates");
	const vct = vcts[0];
	eq(vct.spec.resources.requests.storage, exp.storage, "volume size");
	const mount = (c.volumeMounts || []).find((m) => m.name === vct.metadata.name);
	assert(mount, `no volumeMount for claim ${vct.metadata.name}`);
	eq(mount.mountPath, "/qdata", "data mountPath");
	assert(!(pod.volumes || []).some((v) => v.name === vct.metadata.name),
		"a pod volume shadows the claim template");

	// Probes on the daemon's HTTP port.
	eq(c.readinessProbe?.httpGet?.path, "/readyz", "readiness path");
	eq(portNumber(c, c.readinessProbe.httpGet.port), 80, "readiness port");
	eq(c.livenessProbe?.httpGet?.path, "/healthz", "liveness path");
	eq(portNumber(c, c.livenessProbe.httpGet.port), 80, "liveness port");

	// Settings.
	const env = envMap(c);
	eq(envValue(env, "NODE_NUMBER"), String(exp.replicas), "NODE_NUMBER");
	eq(envValue(env, "ADDRESS_MODE"), "dns", "ADDRESS_MODE");
	eq(envValue(env, "CONSENSUS"), exp.consensus, "CONSENSUS");
	eq(envValue(env, "PRIVACY"), exp.privacy, "PRIVACY");
	eq(envValue(env, "KEYSTORE_KDF"), exp.kdf, "KEYSTORE_KDF");
	eq(envValue(env, "STOP_TIMEOUT"), String(exp.stopTimeout), "STOP_TIMEOUT");
	eq(envValue(env, "DATA_DIR"), "/qdata", "DATA_DIR");
	eq(envValue(env, "VALIDATORS"), exp.validators, "VALIDATORS");
	eq(envValue(env, "REPLACE_AFTER"), String(exp.replaceAfter), "REPLACE_AFTER");
	const prefix = envValue(env, "NODE_PREFIX");
	const domain = envValue(env, "NODE_DOMAIN");
	eq(prefix, `${sts.metadata.name}-`, "NODE_PREFIX = StatefulSet name + '-'");
	eq(domain, `${svc.metadata.name}.${exp.namespace}.svc.cluster.local`, "NODE_DOMAIN");
	assert(!env.has("NODE_ORDINAL"), "NODE_ORDINAL must come from the pod's host name");
	// Every peer name quorum-peerd will ask for is a pod's DNS name.
	for (let i = 0; i < exp.replicas; i++) {
		const podName = `${sts.metadata.name}-${i}`;
		assert(podName.length <= 63 && dnsLabel.test(podName), `pod name ${podName} is not a DNS label`);
		eq(`${prefix}${i}.${domain}`,
			`${podName}.${sts.spec.serviceName}.${exp.namespace}.svc.cluster.local`,
			`peer ${i} host name`);
	}
	for (const [k, v] of Object.entries(exp.extraEnv || {})) {
		eq(envValue(env, k), v, `extra env ${k}`);
	}

	// Non-root, only NET_BIND_SERVICE.
	const psc = pod.securityContext || {};
	eq(psc.runAsNonRoot, true, "pod runAsNonRoot");
	eq(psc.runAsUser, 1000, "pod runAsUser");
	eq(psc.fsGroup, 1000, "pod fsGroup");
	// Port 80 under allowPrivilegeEscalation: false (see values.yaml).
	const port = (psc.sysctls || []).find((x) => x.name === "net.ipv4.ip_unprivileged_port_start");
	assert(port && Number(port.value) <= 80, "sysctl net.ipv4.ip_unprivileged_port_start <= 80 missing");
	const csc = c.securityContext || {};
	eq(csc.allowPrivilegeEscalation, false, "allowPrivilegeEscalation");
	eq(csc.privileged === true, false, "privileged");
	eq(csc.capabilities?.drop, ["ALL"], "capabilities.drop");
	eq(csc.capabilities?.add, ["NET_BIND_SERVICE"], "capabilities.add");

	// Long enough for geth then the TM to stop, each with STOP_TIMEOUT.
	const grace = pod.terminationGracePeriodSeconds;
	assert(typeof grace === "number" && grace > 2 * exp.stopTimeout + 5,
		`terminationGracePeriodSeconds ${grace} not above 2*${exp.stopTimeout}+5`);

	// Cluster secret: only through a secretKeyRef, never a literal, nor a
	// hash of it in an annotation.
	const ann = JSON.stringify(sts.spec.template.metadata.annotations || {});
	assert(!/secret/i.test(ann), `pod annotations mention the secret: ${ann}`);
	const cs = env.get("CLUSTER_SECRET");
	if (!exp.secretName) {
		assert(!cs, "CLUSTER_SECRET set though clusterSecret is off");
	} else {
		assert(cs, "CLUSTER_SECRET missing");
		assert(cs.value === undefined, "CLUSTER_SECRET given as a literal value");
		const ref = cs.valueFrom?.secretKeyRef;
		assert(ref, "CLUSTER_SECRET is not a secretKeyRef");
		eq(ref.name, exp.secretName, "CLUSTER_SECRET secret name");
		eq(ref.key, exp.secretKey, "CLUSTER_SECRET secret key");
		if (exp.secretRendered) {
			const s = secrets[0];
			eq(s.metadata.name, exp.secretName, "Secret name");
			const b64 = s.data?.[exp.secretKey];
			assert(b64, `Secret has no key ${exp.secretKey}`);
			eq(Buffer.from(b64, "base64").toString("utf8"), exp.secretValue, "Secret value");
		}
	}
}

function checkNotes(text, exp, upgrade) {
	const n = exp.fullname;
	const want = `kubectl -n ${exp.namespace} exec ${n}-0 -- quorum-peerd probe http://${n}-1.${n}/env.sh`;
	assert(text.includes(want), `NOTES.txt lacks "${want}"`);
	assert(!/<no value>/.test(text), "NOTES.txt has <no value>");
	assert(text.includes("helm upgrade --set replicaCount=M"),
		"NOTES.txt does not say how to grow or shrink the network");
	if (upgrade) {
		assert(text.includes(`rolled one at a\ntime onto NODE_NUMBER=${exp.replicas}`),
			"NOTES.txt (upgrade) does not say the old pods are rolled onto the new NODE_NUMBER");
		assert(!text.includes("none is\nReady before all"),
			"NOTES.txt (upgrade) says pods wait for every peer");
	} else {
		assert(text.includes(`none is\nReady before all ${exp.replicas} are up`),
			"NOTES.txt (install) does not say the pods form together");
	}
}

const defaults = {
	consensus: "raft", privacy: "auto", kdf: "standard", stopTimeout: 25,
	storage: "10Gi", replicas: 4, namespace: "default",
	validators: "all", replaceAfter: 300, retention: undefined,
};

const cases = [
	{
		name: "default values",
		release: "quorum", namespace: "default", files: [],
		exp: { ...defaults, fullname: "quorum" },
	},
	{
		name: "replicaCount=7 qbft tessera clusterSecret",
		release: "quorum", namespace: "default", files: ["overrides.yaml"],
		exp: {
			...defaults, fullname: "quorum", replicas: 7, consensus: "qbft",
			privacy: "tessera", kdf: "light", stopTimeout: 40,
			secretName: "quorum-cluster-secret", secretKey: "cluster-secret",
			secretRendered: true, secretValue: "correct horse battery staple",
			extraEnv: { GETH_VERBOSITY: "3" },
		},
	},
	{
		name: "other release and namespace",
		release: "prod", namespace: "chain", files: [],
		exp: { ...defaults, fullname: "prod", namespace: "chain" },
	},
	{
		name: "existing secret, fullnameOverride",
		release: "quorum", namespace: "default", files: ["existing-secret.yaml"],
		exp: {
			...defaults, fullname: "net1", secretName: "my-cluster-secret",
			secretKey: "secret", secretRendered: false,
		},
	},
	{
		name: "helm upgrade: replicaCount=5, validators=initial, replaceAfter=60, PVCs retained",
		release: "quorum", namespace: "default", files: ["membership.yaml"], upgrade: true,
		exp: {
			...defaults, fullname: "quorum", replicas: 5, consensus: "istanbul",
			validators: "initial", replaceAfter: 60,
			retention: { whenDeleted: "Retain", whenScaled: "Retain" },
		},
	},
	{ name: "rejects validators=some", release: "quorum", namespace: "default",
		files: ["bad-validators.yaml"], fail: /validators must be all or initial/ },
	{ name: "rejects replaceAfter=-1", release: "quorum", namespace: "default",
		files: ["bad-replace-after.yaml"], fail: /replaceAfter must be 0 to 604800/ },
	{ name: "rejects replaceAfter=604801", release: "quorum", namespace: "default",
		files: ["bad-replace-after-big.yaml"], fail: /replaceAfter must be 0 to 604800/ },
	{ name: "rejects retentionPolicy whenScaled=Keep", release: "quorum", namespace: "default",
		files: ["bad-retention.yaml"], fail: /retentionPolicy.whenScaled must be Retain or Delete/ },
	{ name: "rejects consensus=pbft", release: "quorum", namespace: "default",
		files: ["bad-consensus.yaml"], fail: /consensus must be/ },
	{ name: "rejects replicaCount=0", release: "quorum", namespace: "default",
		files: ["bad-replicas.yaml"], fail: /replicaCount must be/ },
	{ name: "rejects clusterSecret without a value", release: "quorum",
		namespace: "default", files: ["secret-missing.yaml"], fail: /clusterSecret.value/ },
	{ name: "rejects a short grace period", release: "quorum", namespace: "default",
		files: ["bad-grace.yaml"], fail: /terminationGraceExtra/ },
];

let passed = 0;
let failed = 0;
for (const k of cases) {
	try {
		const r = render(k);
		if (k.fail) {
			assert(!r.ok, "rendering succeeded, should have failed");
			assert(k.fail.test(r.err), `failed without the expected message: ${r.err.trim()}`);
		} else {
			assert(r.ok, `rendering failed: ${r.err}`);
			checkChart(parseDocs(r.out), k.exp);
			// helm template does not render NOTES.txt.
			if (!useHelm) {
				const n = render({ ...k, notes: true });
				assert(n.ok, `rendering NOTES.txt failed: ${n.err}`);
				checkNotes(n.out, k.exp, k.upgrade);
			}
		}
		passed++;
		if (!quiet) console.log(`ok   ${k.name}`);
	} catch (e) {
		if (!(e instanceof CheckError)) throw e;
		failed++;
		if (!quiet) console.log(`FAIL ${k.name}: ${e.message}`);
	}
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
