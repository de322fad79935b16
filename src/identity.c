/*
 * This node's identity, created once and reused after (DESIGN §5).
 *
 * Two passes: first every existing file is read and checked, and only if all
 * of them are sound are the missing ones created. So a corrupt key stops the
 * node before anything is written, and a partial identity (a crash between
 * two files) is completed around the keys that exist.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "peerd/aesctr.h"
#include "peerd/encoding.h"
#include "peerd/ethkey.h"
#include "peerd/fsutil.h"
#include "peerd/identity.h"
#include "peerd/keystore.h"
#include "peerd/tmkey.h"

#define PASSWORD_MAX 1024

struct paths {
	char nodekey[256], keystore_dir[256], password[256];
	char tm_key[256], tm_pub[256], seal[256];
};

static int make_paths(const struct settings *s, struct paths *p)
{
	int r = 0;

	r |= fsutil_path(p->nodekey, sizeof(p->nodekey), "%s/dd/geth/nodekey",
	    s->data_dir);
	r |= fsutil_path(p->keystore_dir, sizeof(p->keystore_dir),
	    "%s/dd/keystore", s->data_dir);
	if (s->account_password_file[0] != '\0')
		r |= fsutil_path(p->password, sizeof(p->password), "%s",
		    s->account_password_file);
	else
		r |= fsutil_path(p->password, sizeof(p->password),
		    "%s/keys/password", s->data_dir);
	r |= fsutil_path(p->tm_key, sizeof(p->tm_key), "%s/keys/tm.key",
	    s->data_dir);
	r |= fsutil_path(p->tm_pub, sizeof(p->tm_pub), "%s/keys/tm.pub",
	    s->data_dir);
	r |= fsutil_path(p->seal, sizeof(p->seal), "%s/keys/keystore.ok",
	    s->data_dir);
	return r ? -ENAMETOOLONG : 0;
}

/*
 * geth's nodekey rules (formats.md §1, the stricter v21.4+ reader): 64 hex
 * characters, then at most two bytes each '\n' or '\r'; scalar in [1, n).
 */
static int parse_nodekey(const char *buf, size_t len, uint8_t key[32],
    char *why, size_t whylen)
{
	size_t i, run = 0;

	/* Like geth: the key is the run of bytes up to the first < '!'. */
	while (run < len && run < 64 && (unsigned char)buf[run] >= '!')
		run++;
	if (run < 64) {
		snprintf(why, whylen, "too short (%zu characters), want 64 hex "
		    "characters", run);
		return -EINVAL;
	}
	if (len > 66) {
		snprintf(why, whylen, "too long (%zu bytes), want 64 hex "
		    "characters", len);
		return -EINVAL;
	}
	for (i = 64; i < len; i++) {
		if (buf[i] != '\n' && buf[i] != '\r') {
			snprintf(why, whylen, "unexpected byte 0x%02x after "
			    "the 64 hex characters", (unsigned char)buf[i]);
			return -EINVAL;
		}
	}
	if (encoding_unhex(key, 32, buf, 64) < 0) {
		snprintf(why, whylen, "not 64 hex characters");
		return -EINVAL;
	}
	if (!ethkey_priv_valid(key)) {
		sodium_memzero(key, 32);
		snprintf(why, whylen, "not a valid secp256k1 private key "
		    "(zero or >= the curve order)");
		return -EINVAL;
	}
	return 0;
}

static int read_small(const char *path, size_t max, char **buf, size_t *len,
    char *err, size_t errlen)
{
	int r = fsutil_read_file(path, max, buf, len);

	if (r == -ENOENT)
		return r;
	if (r == -E2BIG)
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
	else if (r == -EINVAL)
		snprintf(err, errlen, "%s: not a regular file", path);
	else if (r < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	return r == -E2BIG ? -EINVAL : r;
}

static void free_secret(char *buf, size_t len)
{
	if (buf != NULL)
		sodium_memzero(buf, len);
	free(buf);
}

/* The password is the first line of the file (geth's --password rule). */
static int load_password(const char *path, char pw[PASSWORD_MAX],
    size_t *pwlen, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, n;
	int r;

	r = read_small(path, PASSWORD_MAX - 1, &buf, &len, err, errlen);
	if (r < 0)
		return r;
	n = strcspn(buf, "\n");
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	memcpy(pw, buf, n);
	pw[n] = '\0';
	*pwlen = n;
	free_secret(buf, len);
	return 0;
}

/* The first regular, non-hidden file of the keystore dir, like geth. */
static int find_keystore(const char *dir, char *path, size_t pathlen)
{
	struct dirent **names = NULL;
	int n, i, r = -ENOENT;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	for (i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		size_t l = strlen(nm);
		struct stat st;
		char p[512];

		if (r == 0 || nm[0] == '.' || (l > 0 && nm[l - 1] == '~'))
			continue;
		if (fsutil_path(p, sizeof(p), "%s/%s", dir, nm) < 0)
			continue;
		if (lstat(p, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (fsutil_path(path, pathlen, "%s", p) == 0)
			r = 0;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int mkdirs(const char *dd, const char *sub, char *err, size_t errlen)
{
	char p[256];
	int r;

	r = fsutil_path(p, sizeof(p), "%s%s", dd, sub);
	if (r == 0)
		r = fsutil_mkdirs(p, 0700);
	if (r < 0)
		snprintf(err, errlen, "%s: cannot create directory: %s", p,
		    strerror(-r));
	return r;
}

static int write_file(const char *path, const void *buf, size_t len,
    char *err, size_t errlen)
{
	int r = fsutil_write_atomic_path(path, buf, len, 0600);

	if (r < 0)
		snprintf(err, errlen, "%s: cannot write: %s", path,
		    strerror(-r));
	return r;
}

static void keystore_name(const uint8_t addr[20], char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char hex[41];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	encoding_hex(hex, addr, 20);
	/* geth's keyFileName: UTC--<ISO8601 with '-' for ':'>--<address>. */
	snprintf(out, len, "UTC--%04d-%02d-%02dT%02d-%02d-%02d.%09ldZ--%s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec, hex);
}

void identity_keystore_seal(const uint8_t nodekey[static 32],
    const char *password, size_t pwlen, const char *keystore, size_t kslen,
    char out[static IDENTITY_SEAL_LEN + 1])
{
	static const char tag[] = "quorum-peerd keystore opened v1";
	crypto_generichash_state st;
	uint8_t h[32], l[8];
	size_t i;

	/* Lengths first, so no two (password, keystore) pairs collide. */
	for (i = 0; i < 8; i++)
		l[i] = (uint8_t)((uint64_t)pwlen >> (8 * i));
	crypto_generichash_init(&st, nodekey, 32, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)tag, sizeof(tag));
	crypto_generichash_update(&st, l, sizeof(l));
	crypto_generichash_update(&st, (const uint8_t *)password, pwlen);
	crypto_generichash_update(&st, (const uint8_t *)keystore, kslen);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_memzero(&st, sizeof(st));
	encoding_hex(out, h, sizeof(h));
	out[IDENTITY_SEAL_LEN] = '\0';
	sodium_memzero(h, sizeof(h));
}

/*
 * True if keys/keystore.ok holds this keystore's seal: these exact bytes
 * were opened with this exact password before, so the KDF need not run
 * again (it is the start-up's largest cost: ~1 s and 256 MiB standard).
 */
static bool seal_matches(const char *path, const uint8_t nodekey[32],
    const char *pw, size_t pwlen, const char *ks, size_t kslen)
{
	char want[IDENTITY_SEAL_LEN + 1], *buf = NULL;
	size_t len = 0;
	bool ok;

	if (fsutil_read_file(path, 128, &buf, &len) < 0)
		return false;
	identity_keystore_seal(nodekey, pw, pwlen, ks, kslen, want);
	ok = len == IDENTITY_SEAL_LEN + 1 && buf[IDENTITY_SEAL_LEN] == '\n' &&
	    sodium_memcmp(buf, want, IDENTITY_SEAL_LEN) == 0;
	free_secret(buf, len);
	sodium_memzero(want, sizeof(want));
	return ok;
}

static int write_seal(const char *path, const uint8_t nodekey[32],
    const char *pw, size_t pwlen, const char *ks, size_t kslen)
{
	char seal[IDENTITY_SEAL_LEN + 1];
	int r;

	identity_keystore_seal(nodekey, pw, pwlen, ks, kslen, seal);
	seal[IDENTITY_SEAL_LEN] = '\n';
	r = fsutil_write_atomic_path(path, seal, sizeof(seal), 0600);
	sodium_memzero(seal, sizeof(seal));
	return r;
}

int identity_load_or_create(const struct settings *s, struct identity *id,
    char *err, size_t errlen)
{
	struct paths p;
	char pw[PASSWORD_MAX], why[160];
	char *buf = NULL;
	size_t len = 0, pwlen = 0;
	bool have_nodekey = false, have_pw = false, have_ks = false;
	bool have_tmkey = false, have_tmpub = false, sealed = false;
	uint8_t account_priv[32], tm_secret[32], tm_pub_file[32];
	char *ks = NULL; /* the keystore's bytes, for its seal */
	size_t kslen = 0;
	int r;

	memset(id, 0, sizeof(*id));
	err[0] = '\0';
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -EIO;
	}
	r = make_paths(s, &p);
	if (r < 0) {
		snprintf(err, errlen, "DATA_DIR=\"%s\": path too long",
		    s->data_dir);
		return r;
	}

	/* Pass 1: read and check what exists; write nothing. */
	r = read_small(p.nodekey, 128, &buf, &len, err, errlen);
	if (r == 0) {
		r = parse_nodekey(buf, len, id->nodekey, why, sizeof(why));
		free_secret(buf, len);
		buf = NULL;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s; refusing to start (geth "
			    "would silently replace it with a new key)",
			    p.nodekey, why);
			goto out;
		}
		have_nodekey = true;
	} else if (r != -ENOENT) {
		goto out;
	}

	r = load_password(p.password, pw, &pwlen, err, errlen);
	if (r == 0) {
		have_pw = true;
	} else if (r != -ENOENT || s->account_password_file[0] != '\0') {
		if (r == -ENOENT)
			snprintf(err, errlen, "ACCOUNT_PASSWORD_FILE=\"%s\": "
			    "no such file", s->account_password_file);
		goto out;
	}

	r = find_keystore(p.keystore_dir, id->keystore_path,
	    sizeof(id->keystore_path));
	if (r == 0) {
		if (!have_pw) {
			snprintf(err, errlen, "%s exists but the account "
			    "password file %s does not", id->keystore_path,
			    p.password);
			r = -EINVAL;
			goto out;
		}
		r = read_small(id->keystore_path, KEYSTORE_MAX, &ks, &kslen,
		    err, errlen);
		if (r < 0)
			goto out;
		if (have_nodekey &&
		    seal_matches(p.seal, id->nodekey, pw, pwlen, ks, kslen)) {
			/* Opened before: the address member was checked then. */
			sealed = true;
			r = keystore_address(ks, kslen, id->account, why,
			    sizeof(why));
		} else {
			r = keystore_decrypt(ks, kslen, pw, pwlen, account_priv,
			    why, sizeof(why));
		}
		if (r == -EACCES) {
			snprintf(err, errlen, "%s: MAC mismatch: wrong password "
			    "in %s or a corrupt keystore", id->keystore_path,
			    p.password);
			r = -EINVAL;
			goto out;
		} else if (r < 0) {
			snprintf(err, errlen, "%s: %s", id->keystore_path, why);
			r = -EINVAL;
			goto out;
		}
		have_ks = true;
	} else if (r != -ENOENT) {
		snprintf(err, errlen, "%s: %s", p.keystore_dir, strerror(-r));
		goto out;
	}

	r = read_small(p.tm_key, TMKEY_JSON_MAX * 2, &buf, &len, err, errlen);
	if (r == 0) {
		r = tmkey_parse(buf, len, tm_secret, why, sizeof(why));
		free_secret(buf, len);
		buf = NULL;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", p.tm_key, why);
			r = -EINVAL;
			goto out;
		}
		have_tmkey = true;
	} else if (r != -ENOENT) {
		goto out;
	}
	r = read_small(p.tm_pub, 128, &buf, &len, err, errlen);
	if (r == 0) {
		r = tmkey_parse_pub(buf, len, tm_pub_file, why, sizeof(why));
		free(buf);
		buf = NULL;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", p.tm_pub, why);
			r = -EINVAL;
			goto out;
		}
		have_tmpub = true;
	} else if (r != -ENOENT) {
		goto out;
	}
	if (have_tmpub && !have_tmkey) {
		snprintf(err, errlen, "%s exists without %s: restore the key "
		    "or remove both", p.tm_pub, p.tm_key);
		r = -EINVAL;
		goto out;
	}
	if (have_tmkey) {
		r = tmkey_public(tm_secret, id->tm_pub);
		if (r < 0)
			goto out;
		if (have_tmpub &&
		    sodium_memcmp(tm_pub_file, id->tm_pub, 32) != 0) {
			snprintf(err, errlen, "%s does not match the public "
			    "key of %s", p.tm_pub, p.tm_key);
			r = -EINVAL;
			goto out;
		}
	}

	/* Pass 2: create what is missing, each file atomically. */
	if (!have_nodekey || !have_ks || !have_pw || !have_tmkey ||
	    !have_tmpub) {
		r = mkdirs(s->data_dir, "", err, errlen);
		if (r == 0)
			r = mkdirs(s->data_dir, "/dd/geth", err, errlen);
		if (r == 0)
			r = mkdirs(s->data_dir, "/dd/keystore", err, errlen);
		if (r == 0)
			r = mkdirs(s->data_dir, "/keys", err, errlen);
		if (r < 0)
			goto out;
	}
	if (!have_nodekey) {
		char hex[66];

		r = ethkey_generate(id->nodekey);
		if (r < 0)
			goto out;
		encoding_hex(hex, id->nodekey, 32);
		hex[64] = '\n';
		r = write_file(p.nodekey, hex, 65, err, errlen);
		sodium_memzero(hex, sizeof(hex));
		if (r < 0)
			goto out;
	}
	if (!have_pw) {
		uint8_t rnd[24];

		randombytes_buf(rnd, sizeof(rnd));
		encoding_hex(pw, rnd, sizeof(rnd));
		sodium_memzero(rnd, sizeof(rnd));
		pwlen = strlen(pw);
		pw[pwlen] = '\n';
		r = write_file(p.password, pw, pwlen + 1, err, errlen);
		pw[pwlen] = '\0';
		if (r < 0)
			goto out;
	}
	if (!have_ks) {
		char name[128], json[KEYSTORE_MAX];
		uint8_t pub[64], addr[20];

		r = ethkey_generate(account_priv);
		if (r == 0)
			r = ethkey_pubkey(account_priv, pub);
		if (r == 0)
			r = keystore_encrypt(account_priv, pw, pwlen, s->kdf,
			    json, sizeof(json));
		if (r < 0) {
			snprintf(err, errlen, "cannot create the account "
			    "keystore: %s", r == -ENOSYS ? aesctr_load_error() :
			    strerror(-r));
			goto out;
		}
		ethkey_address(pub, addr);
		keystore_name(addr, name, sizeof(name));
		r = fsutil_path(id->keystore_path, sizeof(id->keystore_path),
		    "%s/%s", p.keystore_dir, name);
		if (r == 0)
			r = write_file(id->keystore_path, json, strlen(json),
			    err, errlen);
		if (r < 0)
			goto out;
		kslen = strlen(json);
		ks = malloc(kslen);
		if (ks != NULL)
			memcpy(ks, json, kslen);
	}
	if (!have_tmkey) {
		char json[TMKEY_JSON_MAX];

		r = tmkey_generate(id->tm_pub, tm_secret);
		if (r == 0)
			r = tmkey_to_json(tm_secret, json, sizeof(json));
		if (r == 0)
			r = write_file(p.tm_key, json, strlen(json), err,
			    errlen);
		sodium_memzero(json, sizeof(json));
		if (r < 0)
			goto out;
	}
	if (!have_tmpub) {
		char b64[ENCODING_B64_32_LEN + 1];

		/* Tessera reads tm.pub without trimming: no newline. */
		encoding_base64(b64, sizeof(b64), id->tm_pub, 32);
		r = write_file(p.tm_pub, b64, ENCODING_B64_32_LEN, err,
		    errlen);
		if (r < 0)
			goto out;
	}

	r = ethkey_pubkey(id->nodekey, id->node_pub);
	if (r == 0 && !sealed) {
		uint8_t apub[64];

		r = ethkey_pubkey(account_priv, apub);
		if (r == 0)
			ethkey_address(apub, id->account);
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot derive public keys");
		goto out;
	}
	/*
	 * Opened now: seal it so the next start skips the KDF. Best effort: a
	 * read-only data dir only costs the KDF again at the next start.
	 */
	if (!sealed && ks != NULL)
		(void)write_seal(p.seal, id->nodekey, pw, pwlen, ks, kslen);
out:
	free(ks);
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(account_priv, sizeof(account_priv));
	sodium_memzero(tm_secret, sizeof(tm_secret));
	if (r < 0)
		identity_wipe(id);
	return r;
}

void identity_public(const struct identity *id, const struct settings *s,
    struct peerdoc *d)
{
	const char *addr, *lb, *rb;
	int n;

	memset(d, 0, sizeof(*d));
	d->ordinal = s->node_ordinal;
	n = snprintf(d->name, sizeof(d->name), "%s%u", s->node_prefix,
	    s->node_ordinal);
	if (n < 0 || (size_t)n >= sizeof(d->name))
		d->name[0] = '\0';
	if (s->node_domain[0] != '\0')
		n = snprintf(d->host, sizeof(d->host), "%s.%s", d->name,
		    s->node_domain);
	else
		n = snprintf(d->host, sizeof(d->host), "%s", d->name);
	if (n < 0 || (size_t)n >= sizeof(d->host))
		d->host[0] = '\0';
	memcpy(d->ip, s->node_ip, sizeof(d->ip));
	encoding_hex(d->node_id, id->node_pub, 64);
	ethkey_checksum_hex(id->account, d->account);
	encoding_base64(d->tm_pub, sizeof(d->tm_pub), id->tm_pub, 32);
	d->p2p_port = s->p2p_port;
	d->raft_port = s->raft_port;
	addr = s->address_mode == ADDRESS_DNS ? d->host : d->ip;
	if (addr[0] == '\0')
		return;
	/* IPv6 literals are bracketed in URLs. */
	lb = strchr(addr, ':') != NULL ? "[" : "";
	rb = lb[0] != '\0' ? "]" : "";
	if (s->consensus == CONSENSUS_RAFT)
		n = snprintf(d->enode, sizeof(d->enode),
		    "enode://%s@%s%s%s:%u?discport=0&raftport=%u", d->node_id,
		    lb, addr, rb, d->p2p_port, d->raft_port);
	else
		n = snprintf(d->enode, sizeof(d->enode),
		    "enode://%s@%s%s%s:%u?discport=0", d->node_id, lb, addr,
		    rb, d->p2p_port);
	if (n < 0 || (size_t)n >= sizeof(d->enode))
		d->enode[0] = '\0';
	n = snprintf(d->tm_url, sizeof(d->tm_url), "http://%s%s%s:%u/", lb,
	    addr, rb, s->tm_port);
	if (n < 0 || (size_t)n >= sizeof(d->tm_url))
		d->tm_url[0] = '\0';
}

void identity_wipe(struct identity *id)
{
	sodium_memzero(id, sizeof(*id));
}
