// Fresh identities, read back with ethers and tweetnacl.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAddress } from 'ethers';
import { checkIdentity, checkKeystore } from './check.mjs';
import { createIdentity, firstLine, paths, tempDir } from './lib.mjs';

const COUNT = 20;

test('the checks can fail: ethers rejects a wrong EIP-55 checksum', () => {
	// EIP-55's own example.
	const good = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
	assert.equal(getAddress(good.toLowerCase()), good);
	const i = good.search(/[A-F]/);
	const bad = good.slice(0, i) + good[i].toLowerCase() + good.slice(i + 1);
	assert.throws(() => getAddress(bad));
});

test(`${COUNT} identities with KEYSTORE_KDF=light`, { timeout: 300_000 }, async (t) => {
	const dirs = Array.from({ length: COUNT }, () => tempDir('light'));
	// Created all at once: independent processes, independent directories.
	const made = await Promise.all(dirs.map((d) => createIdentity(d, { KEYSTORE_KDF: 'light' })));
	const seen = { node_id: new Set(), account: new Set(), tm_pub: new Set(), password: new Set() };
	for (let i = 0; i < COUNT; i++) {
		await t.test(`identity ${i}`, async () => {
			const { run, obj } = made[i];
			await checkIdentity(dirs[i], run, obj, { kdf: 'light' });
			const pw = firstLine(readFileSync(paths(dirs[i]).password));
			assert.ok(pw.length >= 16, 'the random password is shorter than 16 characters');
			// Compared by hash: the test never holds a password in a message.
			const got = { ...obj, password: createHash('sha256').update(pw).digest('hex') };
			for (const k of Object.keys(seen)) {
				assert.ok(!seen[k].has(got[k]), `${k} repeats across identities`);
				seen[k].add(got[k]);
			}
		});
	}
});

test('one identity with KEYSTORE_KDF=standard', { timeout: 300_000 }, async () => {
	const dir = tempDir('standard');
	const { run, obj } = await createIdentity(dir, { KEYSTORE_KDF: 'standard' });
	await checkIdentity(dir, run, obj, { kdf: 'standard' });
});

test('without KEYSTORE_KDF the keystore uses the standard scrypt parameters', { timeout: 120_000 }, async () => {
	const dir = tempDir('default');
	const { obj } = await createIdentity(dir, {});
	await checkKeystore(dir, obj, { kdf: 'standard', decrypt: false });
});

test('umask 0 still gives files 0600 and directories 0700', { timeout: 120_000 }, async () => {
	const dir = tempDir('umask');
	const { run, obj } = await createIdentity(dir, { KEYSTORE_KDF: 'light' }, { umask: '000' });
	await checkIdentity(dir, run, obj, { kdf: 'light' });
});

test('ACCOUNT_PASSWORD_FILE: the keystore is encrypted with its first line', { timeout: 120_000 }, async () => {
	const dir = tempDir('pwfile');
	const pwFile = join(tempDir('pw'), 'password.txt');
	const password = 'interop-test-password-' + process.pid;
	writeFileSync(pwFile, password + '\nsecond line is not part of it\n', { mode: 0o600 });
	const { run, obj } = await createIdentity(dir, { KEYSTORE_KDF: 'light', ACCOUNT_PASSWORD_FILE: pwFile });
	await checkIdentity(dir, run, obj, { kdf: 'light', password, passwordFile: false });
	assert.ok(!existsSync(paths(dir).password), 'keys/password was created although ACCOUNT_PASSWORD_FILE is set');
	assert.ok(!run.stdout.includes(password) && !run.stderr.includes(password), 'output contains the password');
});
