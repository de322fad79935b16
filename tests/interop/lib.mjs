// Helpers shared by the interop tests: run quorum-peerd, read an identity
// back, snapshot a directory tree. Nothing here prints a secret: snapshots
// hold content hashes only, and daemon output quoted in an assertion message
// goes through redact() first.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, lstatSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const PEERD = resolve(process.env.PEERD ?? '../../build/quorum-peerd');

const tmpRoots = [];

// A fresh, empty directory under $TMPDIR, removed when the process exits.
export function tempDir(tag = 'id') {
	const d = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), `peerd-interop-${tag}-`));
	tmpRoots.push(d);
	return d;
}
process.on('exit', () => {
	if (process.env.KEEP_TMP) return;
	for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

// Settings the daemon reads from the environment: the tests start from a
// clean environment so that nothing the caller exported leaks in.
const BASE_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LOG_FORMAT: 'text' };

// Runs `quorum-peerd identity --data-dir dir` with env added to a clean
// environment. umask, if given, is applied through sh before exec.
export function runIdentity(dir, env = {}, { umask } = {}) {
	const args = ['identity', '--data-dir', dir];
	let cmd = PEERD;
	let argv = args;
	if (umask !== undefined) {
		cmd = '/bin/sh';
		argv = ['-c', `umask ${umask} && exec "$0" "$@"`, PEERD, ...args];
	}
	return new Promise((res, rej) => {
		const p = spawn(cmd, argv, { env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
		const out = [];
		const err = [];
		p.stdout.on('data', (b) => out.push(b));
		p.stderr.on('data', (b) => err.push(b));
		p.on('error', rej);
		p.on('close', (code, signal) =>
			res({
				code,
				signal,
				stdout: Buffer.concat(out).toString('utf8'),
				stderr: Buffer.concat(err).toString('utf8'),
			}),
		);
	});
}

// Creates an identity, insisting on success; returns the run and the parsed
// object printed on stdout.
export async function createIdentity(dir, env = {}, opts = {}) {
	const r = await runIdentity(dir, env, opts);
	if (r.code !== 0)
		throw new Error(`quorum-peerd identity exited ${r.code ?? r.signal}: ${redact(r.stderr)}`);
	let obj;
	try {
		obj = JSON.parse(r.stdout);
	} catch (e) {
		throw new Error(`stdout is not one JSON object (${e.message}): ${redact(r.stdout)}`);
	}
	return { run: r, obj };
}

// Hides anything that could be key material: long hex or base64 runs.
export function redact(s) {
	return String(s)
		.slice(0, 400)
		.replace(/[0-9a-fA-F]{32,}/g, '<hex>')
		.replace(/[A-Za-z0-9+/]{40,}={0,2}/g, '<b64>');
}

export const paths = (dir) => ({
	nodekey: join(dir, 'dd/geth/nodekey'),
	keystoreDir: join(dir, 'dd/keystore'),
	password: join(dir, 'keys/password'),
	tmKey: join(dir, 'keys/tm.key'),
	tmPub: join(dir, 'keys/tm.pub'),
});

// The one keystore file's path (asserting there is exactly one entry).
export function keystoreFile(dir) {
	const names = readdirSync(paths(dir).keystoreDir);
	if (names.length !== 1)
		throw new Error(`dd/keystore holds ${names.length} entries: ${names.join(', ')}`);
	return join(paths(dir).keystoreDir, names[0]);
}

export function firstLine(buf) {
	const s = buf.toString('utf8');
	const i = s.search(/\r?\n/);
	return i < 0 ? s : s.slice(0, i);
}

// Every entry under root: type, mode, size, inode, mtime (ns) and the
// SHA-256 of a file's bytes. Equal snapshots = nothing was touched.
export function snapshot(root) {
	const snap = {};
	const walk = (rel) => {
		const abs = rel ? join(root, rel) : root;
		const st = lstatSync(abs, { bigint: true });
		const e = {
			type: st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'link' : 'other',
			mode: (Number(st.mode) & 0o7777).toString(8),
		};
		if (e.type === 'file') {
			e.size = Number(st.size);
			e.ino = String(st.ino);
			e.mtimeNs = String(st.mtimeNs);
			e.sha256 = createHash('sha256').update(readFileSync(abs)).digest('hex');
		}
		snap[rel || '.'] = e;
		if (e.type === 'dir') for (const n of readdirSync(abs).sort()) walk(rel ? `${rel}/${n}` : n);
	};
	walk('');
	return snap;
}

// The secret values of an identity, to check that no output contains them.
export function secretsOf(dir) {
	const p = paths(dir);
	const out = [];
	try {
		out.push(readFileSync(p.nodekey, 'utf8').trim());
	} catch {}
	try {
		out.push(JSON.parse(readFileSync(p.tmKey, 'utf8')).data.bytes);
	} catch {}
	try {
		const pw = firstLine(readFileSync(p.password));
		if (pw.length >= 8) out.push(pw);
	} catch {}
	return out.filter((s) => s.length > 0);
}
