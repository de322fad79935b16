// Checks one identity created by quorum-peerd against independent
// implementations: ethers (keystore v3, secp256k1, EIP-55) and tweetnacl
// (Curve25519 crypto_box keys).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SigningKey, Wallet, getAddress } from 'ethers';
import nacl from 'tweetnacl';
import { firstLine, keystoreFile, paths, secretsOf } from './lib.mjs';

export const KDF = {
	light: { n: 4096, p: 6, r: 8, dklen: 32 },
	standard: { n: 262144, p: 1, r: 8, dklen: 32 },
};

const KEYSTORE_NAME = /^UTC--\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{9}Z--([0-9a-f]{40})$/;
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TM_KEY = /^\{"data":\{"bytes":"([A-Za-z0-9+/]{43}=)"\},"type":"unlocked"\}$/;

function mode(p) {
	return (statSync(p).mode & 0o777).toString(8).padStart(4, '0');
}

// The node key: geth's file format and the printed node_id.
export function checkNodekey(dir, obj) {
	const text = readFileSync(paths(dir).nodekey, 'latin1');
	assert.ok(/^[0-9a-f]{64}\n$/.test(text), 'dd/geth/nodekey is not 64 lowercase hex + one newline');
	assert.match(obj.node_id, /^[0-9a-f]{128}$/, 'node_id is not 128 lowercase hex');
	const pub = new SigningKey('0x' + text.slice(0, 64)).publicKey;
	assert.equal(pub, '0x04' + obj.node_id, 'ethers: the public key of dd/geth/nodekey is not 04||node_id');
}

// The TM key pair: Constellation's file formats and the printed tm_pub.
export function checkTmKeys(dir, obj) {
	const p = paths(dir);
	const pubText = readFileSync(p.tmPub, 'latin1');
	assert.ok(/^[A-Za-z0-9+/]{43}=$/.test(pubText), 'keys/tm.pub is not 44 base64 characters without newline');
	assert.equal(obj.tm_pub, pubText, 'printed tm_pub differs from keys/tm.pub');
	const keyText = readFileSync(p.tmKey, 'latin1');
	const m = TM_KEY.exec(keyText);
	assert.ok(m, 'keys/tm.key is not exactly {"data":{"bytes":"<44 b64>"},"type":"unlocked"}');
	const secret = new Uint8Array(Buffer.from(m[1], 'base64'));
	assert.equal(secret.length, 32, 'tm.key secret is not 32 bytes');
	const kp = nacl.box.keyPair.fromSecretKey(secret);
	assert.equal(Buffer.from(kp.publicKey).toString('base64'), pubText,
		'tweetnacl: the public key of keys/tm.key is not keys/tm.pub');
}

// The account: keystore v3 as geth writes it, decrypted by ethers.
export async function checkKeystore(dir, obj, { kdf = 'light', password, decrypt = true } = {}) {
	const file = keystoreFile(dir);
	const name = KEYSTORE_NAME.exec(basename(file));
	assert.ok(name, `keystore file name ${basename(file)} is not UTC--<time>--<40 hex>`);
	assert.match(obj.account, /^0x[0-9a-fA-F]{40}$/, 'account is not 0x + 40 hex');
	assert.equal(getAddress(obj.account), obj.account, 'account has no valid EIP-55 checksum');
	assert.equal(name[1], obj.account.slice(2).toLowerCase(), 'keystore file name does not end in the account');
	const json = readFileSync(file, 'utf8');
	const ks = JSON.parse(json);
	assert.equal(ks.version, 3, 'keystore "version" is not the number 3');
	assert.equal(ks.address, obj.account.slice(2).toLowerCase(),
		'keystore "address" is not the account (40 lowercase hex, no 0x)');
	assert.match(ks.id, UUID4, 'keystore "id" is not a v4 UUID');
	assert.equal(ks.crypto.cipher, 'aes-128-ctr');
	assert.equal(ks.crypto.kdf, 'scrypt');
	const { salt, ...params } = ks.crypto.kdfparams;
	assert.deepEqual(params, KDF[kdf], `kdfparams are not scrypt ${kdf}`);
	assert.match(salt, /^[0-9a-f]{64}$/, 'kdfparams.salt is not 32 bytes of hex');
	assert.match(ks.crypto.cipherparams.iv, /^[0-9a-f]{32}$/, 'cipherparams.iv is not 16 bytes of hex');
	assert.match(ks.crypto.ciphertext, /^[0-9a-f]{64}$/, 'ciphertext is not 32 bytes of hex');
	assert.match(ks.crypto.mac, /^[0-9a-f]{64}$/, 'mac is not 32 bytes of hex');
	if (!decrypt) return;
	const pw = password ?? firstLine(readFileSync(paths(dir).password));
	assert.ok(pw.length > 0, 'the password is empty');
	let wallet;
	try {
		wallet = await Wallet.fromEncryptedJson(json, pw);
	} catch (e) {
		assert.fail(`ethers cannot decrypt ${basename(file)} with the password: ${e.shortMessage ?? e.code}`);
	}
	assert.equal(wallet.address, obj.account, 'ethers: the decrypted key\'s address is not the printed account');
	// The account key and the node key are different secrets.
	const nodekey = '0x' + readFileSync(paths(dir).nodekey, 'latin1').slice(0, 64);
	assert.ok(wallet.privateKey !== nodekey, 'the account key is the node key');
}

// Modes: files 0600, directories 0700; no temp files left behind.
export function checkModes(dir, { passwordFile = true } = {}) {
	const p = paths(dir);
	for (const d of ['dd', 'dd/geth', 'dd/keystore', 'keys'])
		assert.equal(mode(join(dir, d)), '0700', `directory ${d} mode`);
	const files = [p.nodekey, keystoreFile(dir), p.tmKey, p.tmPub];
	if (passwordFile) files.push(p.password);
	for (const f of files) assert.equal(mode(f), '0600', `file ${f.slice(dir.length + 1)} mode`);
	for (const d of ['dd/geth', 'dd/keystore', 'keys']) {
		const hidden = readdirSync(join(dir, d)).filter((n) => n.startsWith('.') || n.endsWith('.tmp'));
		assert.deepEqual(hidden, [], `leftover temporary files in ${d}`);
	}
}

// No output of the daemon may contain a secret of the identity.
export function checkNoSecrets(dir, ...texts) {
	for (const s of secretsOf(dir))
		for (const t of texts) assert.ok(!t.includes(s), 'daemon output contains a secret of the identity');
}

export async function checkIdentity(dir, run, obj, opts = {}) {
	for (const k of ['node_id', 'account', 'tm_pub'])
		assert.equal(typeof obj[k], 'string', `printed object has no string "${k}"`);
	checkNodekey(dir, obj);
	checkTmKeys(dir, obj);
	await checkKeystore(dir, obj, opts);
	checkModes(dir, opts);
	checkNoSecrets(dir, run.stdout, run.stderr);
	assert.ok(run.stdout.endsWith('}\n') && run.stdout.indexOf('\n') === run.stdout.length - 1,
		'stdout is not one line holding one JSON object');
}
