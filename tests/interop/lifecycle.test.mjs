// An identity over several runs: reuse, corrupt files, partial identities,
// and the signed peer document.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Signature, SigningKey, keccak256, toUtf8Bytes } from 'ethers';
import { checkIdentity, checkKeystore, checkModes, checkNodekey, checkNoSecrets, checkTmKeys } from './check.mjs';
import { createIdentity, keystoreFile, paths, redact, runIdentity, snapshot, tempDir } from './lib.mjs';

const LIGHT = { KEYSTORE_KDF: 'light' };
const N = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141';

// A run that must fail on file: exit 1, nothing on stdout, one stderr line
// naming the file, no secret in the output, every file unchanged.
async function expectRefused(dir, file, env = LIGHT) {
	const before = snapshot(dir);
	const r = await runIdentity(dir, env);
	const shown = redact(r.stderr);
	assert.equal(r.code, 1, `exit ${r.code ?? r.signal}, want 1; stderr: ${shown}`);
	assert.equal(r.stdout, '', 'stdout is not empty');
	const lines = r.stderr.replace(/\n$/, '');
	assert.ok(lines.length > 0 && !lines.includes('\n'), `stderr is not exactly one line: ${shown}`);
	const rel = file.slice(dir.length + 1);
	assert.ok(r.stderr.includes(rel), `stderr does not name ${rel}: ${shown}`);
	checkNoSecrets(dir, r.stdout, r.stderr);
	assert.deepEqual(snapshot(dir), before, 'files changed although the run was refused');
	return r;
}

test('a second run prints the same object and touches no file', { timeout: 120_000 }, async () => {
	const dir = tempDir('again');
	const first = await createIdentity(dir, LIGHT);
	const before = snapshot(dir);
	// A different KDF setting must not matter either: the keystore exists.
	for (const env of [LIGHT, { KEYSTORE_KDF: 'standard' }]) {
		const again = await createIdentity(dir, env);
		assert.equal(again.run.stdout, first.run.stdout, 'the second run printed something else');
		assert.deepEqual(snapshot(dir), before, 'the second run changed files');
	}
});

const badNodekeys = {
	'63 hex characters': (k) => k.slice(0, 63) + '\n',
	'a non-hex character': (k) => 'g' + k.slice(1, 64) + '\n',
	'an all-zero scalar': () => '0'.repeat(64) + '\n',
	'the scalar ff..ff (>= n)': () => 'f'.repeat(64) + '\n',
	'the scalar n': () => N + '\n',
	'a 0x prefix': (k) => '0x' + k.slice(0, 64) + '\n',
	'an empty file': () => '',
};

for (const [what, make] of Object.entries(badNodekeys)) {
	test(`nodekey with ${what}: refused, nothing changed`, { timeout: 120_000 }, async () => {
		const dir = tempDir('badkey');
		await createIdentity(dir, LIGHT);
		const p = paths(dir).nodekey;
		writeFileSync(p, make(readFileSync(p, 'latin1')));
		await expectRefused(dir, p);
	});
}

test('a corrupt nodekey in an otherwise empty DATA_DIR: refused, nothing created', { timeout: 120_000 }, async () => {
	const dir = tempDir('badonly');
	mkdirSync(join(dir, 'dd/geth'), { recursive: true, mode: 0o700 });
	const p = paths(dir).nodekey;
	writeFileSync(p, 'f'.repeat(64) + '\n', { mode: 0o600 });
	await expectRefused(dir, p);
});

test('keystore with a flipped mac digit: refused, nothing changed', { timeout: 120_000 }, async () => {
	const dir = tempDir('badmac');
	await createIdentity(dir, LIGHT);
	const file = keystoreFile(dir);
	const text = readFileSync(file, 'utf8');
	const mac = JSON.parse(text).crypto.mac;
	const flipped = (mac[0] === '0' ? '1' : '0') + mac.slice(1);
	assert.equal(text.split(mac).length, 2, 'the mac occurs more than once in the file');
	writeFileSync(file, text.replace(mac, flipped));
	await expectRefused(dir, file);
});

test('keystore that is not JSON: refused, nothing changed', { timeout: 120_000 }, async () => {
	const dir = tempDir('badjson');
	await createIdentity(dir, LIGHT);
	const file = keystoreFile(dir);
	writeFileSync(file, readFileSync(file, 'utf8').slice(0, 50));
	await expectRefused(dir, file);
});

test('tm.key with a truncated secret: refused, nothing changed', { timeout: 120_000 }, async () => {
	const dir = tempDir('badtm');
	await createIdentity(dir, LIGHT);
	const p = paths(dir).tmKey;
	writeFileSync(p, '{"data":{"bytes":"AAAA"},"type":"unlocked"}');
	await expectRefused(dir, p);
});

// Deletes some files of a complete identity, reruns, and checks that the
// rest is untouched and the deleted ones are back.
// keys/keystore.ok (the keystore's seal, keyed with the node key) is derived
// from the node key and the keystore: resealed when either is recreated.
async function partial(tag, remove, resealed = false) {
	const dir = tempDir(tag);
	const first = await createIdentity(dir, LIGHT);
	const gone = remove(dir);
	for (const f of gone) unlinkSync(f);
	const kept = snapshot(dir);
	const again = await createIdentity(dir, LIGHT);
	const now = snapshot(dir);
	for (const [rel, e] of Object.entries(kept)) {
		if (e.type === 'dir') continue;
		if (rel === 'keys/keystore.ok' && resealed) {
			assert.notEqual(now[rel].sha256, e.sha256, 'the seal was not renewed');
			assert.equal(now[rel].mode, '600');
			assert.equal(now[rel].size, 65);
			continue;
		}
		assert.deepEqual(now[rel], e, `${rel} changed`);
	}
	await checkIdentity(dir, again.run, again.obj, { kdf: 'light' });
	return { dir, first: first.obj, again: again.obj, gone };
}

test('partial identity without tm.key and tm.pub: only those are recreated', { timeout: 120_000 }, async () => {
	const { first, again } = await partial('notm', (d) => [paths(d).tmKey, paths(d).tmPub]);
	assert.equal(again.node_id, first.node_id, 'node_id changed');
	assert.equal(again.account, first.account, 'account changed');
	assert.notEqual(again.tm_pub, first.tm_pub, 'the recreated TM key is the old one');
});

test('partial identity without the keystore: only it is recreated', { timeout: 120_000 }, async () => {
	const { dir, first, again, gone } = await partial('noks', (d) => [keystoreFile(d)], true);
	assert.equal(again.node_id, first.node_id, 'node_id changed');
	assert.equal(again.tm_pub, first.tm_pub, 'tm_pub changed');
	assert.notEqual(again.account, first.account, 'the recreated account is the old one');
	assert.notEqual(keystoreFile(dir), gone[0]);
});

test('partial identity without the nodekey: only it is recreated', { timeout: 120_000 }, async () => {
	const { first, again } = await partial('nonk', (d) => [paths(d).nodekey], true);
	assert.notEqual(again.node_id, first.node_id, 'the recreated node key is the old one');
	assert.equal(again.account, first.account, 'account changed');
	assert.equal(again.tm_pub, first.tm_pub, 'tm_pub changed');
});

const DOC_ORDER = ['v', 'name', 'ordinal', 'ip', 'host', 'node_id', 'enode', 'account', 'tm_pub', 'tm_url',
	'p2p_port', 'raft_port', 'sig'];

// The signature recovers, with ethers, to node_id; returns the canonical text.
function checkDocSig(doc) {
	assert.match(doc.sig, /^[0-9a-f]{130}$/, 'sig is not 130 lowercase hex');
	const v = parseInt(doc.sig.slice(128), 16);
	assert.ok(v === 0 || v === 1, `sig recovery id is ${v}, want 0 or 1`);
	const body = { ...doc };
	delete body.sig;
	delete body.mac;
	const canonical = JSON.stringify(body);
	const sig = Signature.from({ r: '0x' + doc.sig.slice(0, 64), s: '0x' + doc.sig.slice(64, 128), v: 27 + v });
	assert.doesNotThrow(() => sig.s, 'sig has a high s (not canonical)');
	const pub = SigningKey.recoverPublicKey(keccak256(toUtf8Bytes(canonical)), sig);
	assert.equal(pub, '0x04' + doc.node_id, 'ethers: sig does not recover to node_id');
	// Negative control: one changed member and the recovery fails.
	const tampered = JSON.stringify({ ...body, ordinal: body.ordinal + 1 });
	assert.notEqual(SigningKey.recoverPublicKey(keccak256(toUtf8Bytes(tampered)), sig), pub);
	return canonical;
}

test('NODE_ORDINAL + NODE_IP: the signed document verifies with ethers', { timeout: 120_000 }, async () => {
	const dir = tempDir('doc');
	const plain = await createIdentity(dir, LIGHT);
	const env = { ...LIGHT, NODE_ORDINAL: '0', NODE_IP: '10.0.0.1' };
	const { run, obj: doc } = await createIdentity(dir, env);
	assert.equal(run.stdout, JSON.stringify(doc) + '\n', 'the document is not compact JSON + one newline');
	assert.deepEqual(Object.keys(doc), DOC_ORDER, 'members or their order differ from DESIGN §6');
	for (const k of ['node_id', 'account', 'tm_pub'])
		assert.equal(doc[k], plain.obj[k], `${k} differs from the plain identity output`);
	assert.equal(doc.v, 1);
	assert.equal(doc.ordinal, 0);
	assert.equal(doc.ip, '10.0.0.1');
	assert.ok(doc.enode === `enode://${doc.node_id}@10.0.0.1:${doc.p2p_port}?discport=0` ||
		doc.enode === `enode://${doc.node_id}@10.0.0.1:${doc.p2p_port}?discport=0&raftport=${doc.raft_port}`,
		`enode ${redact(doc.enode)} does not match node_id, ip and ports`);
	checkDocSig(doc);
	checkNoSecrets(dir, run.stdout, run.stderr);
	// RFC 6979: the same key and bytes give the same signature.
	const again = await createIdentity(dir, env);
	assert.equal(again.run.stdout, run.stdout, 'a second run printed a different document');
	checkNodekey(dir, doc);
	checkTmKeys(dir, doc);
	await checkKeystore(dir, doc, { kdf: 'light' });
	checkModes(dir);
});

test('with CLUSTER_SECRET the document carries a valid HMAC', { timeout: 120_000 }, async () => {
	const dir = tempDir('mac');
	const secret = 'interop-cluster-secret';
	const env = { ...LIGHT, NODE_ORDINAL: '3', NODE_IP: '10.0.0.4', CLUSTER_SECRET: secret };
	const { run, obj: doc } = await createIdentity(dir, env);
	assert.deepEqual(Object.keys(doc), [...DOC_ORDER, 'mac'], 'members or their order differ from DESIGN §6');
	assert.equal(doc.ordinal, 3);
	const canonical = checkDocSig(doc);
	const want = createHmac('sha256', secret).update(canonical).digest('hex');
	assert.equal(doc.mac, want, 'mac is not HMAC-SHA256(CLUSTER_SECRET, canonical bytes)');
	assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'output contains the cluster secret');
	assert.equal(basename(dirname(paths(dir).nodekey)), 'geth');
});
