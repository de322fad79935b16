/*
 * Web3 Secret Storage v3 (formats.md §3), compatible with geth's
 * accounts/keystore: scrypt (libsodium) or PBKDF2-HMAC-SHA256 (built on
 * libsodium's HMAC) derives dk; dk[0:16] keys AES-128-CTR (aesctr: OpenSSL's,
 * the only libcrypto use in the daemon) over the private key; the MAC is
 * keccak256(dk[16:32] || ciphertext).
 *
 * Hostile-file bounds (a keystore may come from a mounted volume): scrypt n
 * must be a power of two >= 2, 1 <= r <= 256, 1 <= p <= 16, the scrypt table
 * 128*r*n <= 256 MiB, and the work n*r*p <= 2^22 (geth's standard files are
 * 2^21, about one second); PBKDF2 c <= 2^20. Worst case is therefore 256 MiB
 * and a few seconds. Salts are at most 256 bytes, dklen 32..1024.
 */
#include "peerd/keystore.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "peerd/aesctr.h"
#include "peerd/encoding.h"
#include "peerd/ethkey.h"
#include "peerd/keccak.h"
#include "peerd/strbuf.h"

#ifdef PEERD_TESTING
#define TESTABLE
#else
#define TESTABLE static
#endif

#define KS_SCRYPT_MEM_MAX (256ULL << 20)
#define KS_SCRYPT_R_MAX 256
#define KS_SCRYPT_P_MAX 16
#define KS_SCRYPT_WORK_MAX (1ULL << 22)
#define KS_PBKDF2_C_MAX (1ULL << 20)
#define KS_SALT_MAX 256
#define KS_DKLEN_MAX 1024
#define KS_CT_MAX 32 /* plaintext is the key: 32 bytes, legacy files less */

enum ks_kdf { KS_SCRYPT, KS_PBKDF2 };

struct ks_file {
	enum ks_kdf kdf;
	uint64_t n, r, p; /* scrypt */
	uint64_t c;       /* pbkdf2 */
	uint8_t salt[KS_SALT_MAX];
	size_t saltlen;
	uint8_t iv[16];
	uint8_t ct[KS_CT_MAX];
	size_t ctlen;
	uint8_t mac[32];
	bool has_addr;
	uint8_t addr[20];
};

TESTABLE void keystore_pbkdf2_sha256(const uint8_t *pw, size_t pwlen,
    const uint8_t *salt, size_t saltlen, uint64_t c, uint8_t *out,
    size_t outlen);

/* Printable, bounded rendering of an untrusted string for messages. */
static void quote(char *dst, size_t dstlen, const char *s)
{
	size_t o = 0, i;

	for (i = 0; s[i] != '\0' && i < 40 && o + 5 < dstlen; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			dst[o++] = (char)ch;
		else
			o += (size_t)snprintf(dst + o, dstlen - o, "\\x%02x",
			    ch);
	}
	if (s[i] != '\0' && o + 4 < dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* The member name is the last component of its dotted path. */
static const cJSON *member(const cJSON *obj, const char *path)
{
	const char *dot = strrchr(path, '.');

	/*
	 * Case-insensitive like Go's encoding/json, which geth uses: some
	 * tools write "Crypto".
	 */
	return cJSON_GetObjectItem(obj, dot != NULL ? dot + 1 : path);
}

static int get_object(const cJSON *obj, const char *path, const cJSON **out,
    char *err, size_t errlen)
{
	const cJSON *m = member(obj, path);

	if (m == NULL) {
		strbuf_seterr(err, errlen, "keystore: %s: missing", path);
		return -EINVAL;
	}
	if (!cJSON_IsObject(m)) {
		strbuf_seterr(err, errlen, "keystore: %s: not an object", path);
		return -EINVAL;
	}
	*out = m;
	return 0;
}

static int get_string(const cJSON *obj, const char *path, const char **out,
    char *err, size_t errlen)
{
	const cJSON *m = member(obj, path);

	if (m == NULL) {
		strbuf_seterr(err, errlen, "keystore: %s: missing", path);
		return -EINVAL;
	}
	if (!cJSON_IsString(m) || m->valuestring == NULL) {
		strbuf_seterr(err, errlen, "keystore: %s: not a string", path);
		return -EINVAL;
	}
	*out = m->valuestring;
	return 0;
}

/* geth's ensureInt takes JSON ints and floats; we also insist on integral. */
static int get_uint(const cJSON *obj, const char *path, uint64_t min,
    uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	const cJSON *m = member(obj, path);
	double v;

	if (m == NULL) {
		strbuf_seterr(err, errlen, "keystore: %s: missing", path);
		return -EINVAL;
	}
	if (!cJSON_IsNumber(m)) {
		strbuf_seterr(err, errlen, "keystore: %s: not a number", path);
		return -EINVAL;
	}
	v = m->valuedouble;
	if (!isfinite(v) || v != floor(v)) {
		strbuf_seterr(err, errlen, "keystore: %s: not an integer: %.17g", path,
		    v);
		return -EINVAL;
	}
	if (v < (double)min || v > (double)max) {
		strbuf_seterr(err, errlen,
		    "keystore: %s: out of range [%llu, %llu]: %.17g", path,
		    (unsigned long long)min, (unsigned long long)max, v);
		return -EINVAL;
	}
	*out = (uint64_t)v;
	return 0;
}

/* Hex string of minlen..maxlen bytes (exact if equal), no 0x prefix. */
static int get_hex(const cJSON *obj, const char *path, uint8_t *out,
    size_t minlen, size_t maxlen, size_t *outlen, char *err, size_t errlen)
{
	const char *s;
	char q[200];
	size_t len;
	int ret;

	ret = get_string(obj, path, &s, err, errlen);
	if (ret != 0)
		return ret;
	len = strlen(s);
	if (len % 2 != 0 || len / 2 < minlen || len / 2 > maxlen) {
		quote(q, sizeof(q), s);
		if (minlen == maxlen)
			strbuf_seterr(err, errlen,
			    "keystore: %s: want %zu hex characters: \"%s\"",
			    path, 2 * minlen, q);
		else
			strbuf_seterr(err, errlen,
			    "keystore: %s: want %zu to %zu hex characters: "
			    "\"%s\"",
			    path, 2 * minlen, 2 * maxlen, q);
		return -EINVAL;
	}
	if (encoding_unhex(out, len / 2, s, len) != 0) {
		quote(q, sizeof(q), s);
		strbuf_seterr(err, errlen, "keystore: %s: not hex: \"%s\"", path, q);
		return -EINVAL;
	}
	if (outlen != NULL)
		*outlen = len / 2;
	return 0;
}

/* geth's address member: 40 hex digits, any case, optional 0x. */
static int parse_address(const cJSON *root, uint8_t addr[static 20],
    char *err, size_t errlen)
{
	static const uint8_t zero[20];
	const char *s;
	char q[200];
	size_t len;
	int ret;

	ret = get_string(root, "address", &s, err, errlen);
	if (ret != 0)
		return ret;
	len = strlen(s);
	quote(q, sizeof(q), s);
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (encoding_unhex(addr, 20, s, len) != 0) {
		strbuf_seterr(err, errlen,
		    "keystore: address: want 40 hex characters: \"%s\"", q);
		return -EINVAL;
	}
	/* geth skips such files: "missing or zero address". */
	if (memcmp(addr, zero, 20) == 0) {
		strbuf_seterr(err, errlen, "keystore: address: zero address");
		return -EINVAL;
	}
	return 0;
}

static int check_scrypt(uint64_t n, uint64_t r, uint64_t p, char *err,
    size_t errlen)
{
	if (n < 2 || (n & (n - 1)) != 0) {
		strbuf_seterr(err, errlen,
		    "keystore: crypto.kdfparams.n: not a power of two >= 2: "
		    "%llu",
		    (unsigned long long)n);
		return -EINVAL;
	}
	if (r < 1 || r > KS_SCRYPT_R_MAX) {
		strbuf_seterr(err, errlen,
		    "keystore: crypto.kdfparams.r: out of range [1, %d]: %llu",
		    KS_SCRYPT_R_MAX, (unsigned long long)r);
		return -EINVAL;
	}
	if (p < 1 || p > KS_SCRYPT_P_MAX) {
		strbuf_seterr(err, errlen,
		    "keystore: crypto.kdfparams.p: out of range [1, %d]: %llu",
		    KS_SCRYPT_P_MAX, (unsigned long long)p);
		return -EINVAL;
	}
	/* n is a power of two <= 2^63 and r <= 256: compare by division. */
	if (n > KS_SCRYPT_MEM_MAX / 128 / r) {
		strbuf_seterr(err, errlen,
		    "keystore: crypto.kdfparams.n: scrypt memory 128*r*n over "
		    "256 MiB: n=%llu r=%llu",
		    (unsigned long long)n, (unsigned long long)r);
		return -EINVAL;
	}
	if (n * r * p > KS_SCRYPT_WORK_MAX) {
		strbuf_seterr(err, errlen,
		    "keystore: crypto.kdfparams: scrypt work n*r*p over 2^22: "
		    "n=%llu r=%llu p=%llu",
		    (unsigned long long)n, (unsigned long long)r,
		    (unsigned long long)p);
		return -EINVAL;
	}
	return 0;
}

static int parse_kdf(const cJSON *crypto, struct ks_file *ks, char *err,
    size_t errlen)
{
	const cJSON *kp;
	const char *kdf, *prf;
	uint64_t dklen;
	char q[200];
	int ret;

	ret = get_string(crypto, "crypto.kdf", &kdf, err, errlen);
	if (ret != 0)
		return ret;
	ret = get_object(crypto, "crypto.kdfparams", &kp, err, errlen);
	if (ret != 0)
		return ret;
	if (strcmp(kdf, "scrypt") == 0) {
		ks->kdf = KS_SCRYPT;
		/* Wide ranges here; check_scrypt applies the real bounds. */
		ret = get_uint(kp, "crypto.kdfparams.n", 0, 1ULL << 62, &ks->n,
		    err, errlen);
		if (ret == 0)
			ret = get_uint(kp, "crypto.kdfparams.r", 0, 1ULL << 32,
			    &ks->r, err, errlen);
		if (ret == 0)
			ret = get_uint(kp, "crypto.kdfparams.p", 0, 1ULL << 32,
			    &ks->p, err, errlen);
		if (ret == 0)
			ret = check_scrypt(ks->n, ks->r, ks->p, err, errlen);
	} else if (strcmp(kdf, "pbkdf2") == 0) {
		ks->kdf = KS_PBKDF2;
		ret = get_uint(kp, "crypto.kdfparams.c", 1, KS_PBKDF2_C_MAX,
		    &ks->c, err, errlen);
		if (ret == 0)
			ret = get_string(kp, "crypto.kdfparams.prf", &prf, err,
			    errlen);
		if (ret == 0 && strcmp(prf, "hmac-sha256") != 0) {
			quote(q, sizeof(q), prf);
			strbuf_seterr(err, errlen,
			    "keystore: crypto.kdfparams.prf: unsupported "
			    "PBKDF2 PRF: \"%s\"",
			    q);
			ret = -EINVAL;
		}
	} else {
		quote(q, sizeof(q), kdf);
		strbuf_seterr(err, errlen,
		    "keystore: crypto.kdf: not supported: \"%s\"", q);
		return -EINVAL;
	}
	if (ret != 0)
		return ret;
	/* geth slices dk[16:32], so it needs at least 32 bytes. */
	ret = get_uint(kp, "crypto.kdfparams.dklen", 32, KS_DKLEN_MAX, &dklen,
	    err, errlen);
	if (ret != 0)
		return ret;
	return get_hex(kp, "crypto.kdfparams.salt", ks->salt, 0, KS_SALT_MAX,
	    &ks->saltlen, err, errlen);
}

/* Parses and validates everything; runs no KDF. */
static int parse_v3(const char *json, size_t len, struct ks_file *ks,
    char *err, size_t errlen)
{
	const cJSON *crypto, *cp, *ver, *addr;
	const char *cipher, *end = NULL;
	cJSON *root = NULL;
	char q[200];
	int ret = -EINVAL;

	memset(ks, 0, sizeof(*ks));
	if (len > KEYSTORE_MAX) {
		strbuf_seterr(err, errlen, "keystore: larger than %d bytes: %zu",
		    KEYSTORE_MAX, len);
		goto out;
	}
	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (root == NULL) {
		strbuf_seterr(err, errlen, "keystore: not valid JSON (near byte %zu)",
		    end != NULL && end >= json ? (size_t)(end - json) : 0);
		goto out;
	}
	while (end < json + len &&
	    (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	if (end != json + len) {
		strbuf_seterr(err, errlen, "keystore: trailing data at byte %zu",
		    (size_t)(end - json));
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		strbuf_seterr(err, errlen, "keystore: not a JSON object");
		goto out;
	}
	ver = member(root, "version");
	if (ver == NULL || !cJSON_IsNumber(ver) || ver->valuedouble != 3.0) {
		strbuf_seterr(err, errlen, "keystore: version: not the number 3");
		goto out;
	}
	addr = member(root, "address");
	if (addr != NULL) {
		if (parse_address(root, ks->addr, err, errlen) != 0)
			goto out;
		ks->has_addr = true;
	}
	if (get_object(root, "crypto", &crypto, err, errlen) != 0)
		goto out;
	if (get_string(crypto, "crypto.cipher", &cipher, err, errlen) != 0)
		goto out;
	if (strcmp(cipher, "aes-128-ctr") != 0) {
		quote(q, sizeof(q), cipher);
		strbuf_seterr(err, errlen,
		    "keystore: crypto.cipher: not supported: \"%s\"", q);
		goto out;
	}
	if (get_hex(crypto, "crypto.ciphertext", ks->ct, 1, KS_CT_MAX,
		&ks->ctlen, err, errlen) != 0)
		goto out;
	if (get_object(crypto, "crypto.cipherparams", &cp, err, errlen) != 0)
		goto out;
	if (get_hex(cp, "crypto.cipherparams.iv", ks->iv, 16, 16, NULL, err,
		errlen) != 0)
		goto out;
	if (get_hex(crypto, "crypto.mac", ks->mac, 32, 32, NULL, err,
		errlen) != 0)
		goto out;
	ret = parse_kdf(crypto, ks, err, errlen);
out:
	cJSON_Delete(root);
	return ret;
}

TESTABLE void keystore_pbkdf2_sha256(const uint8_t *pw, size_t pwlen,
    const uint8_t *salt, size_t saltlen, uint64_t c, uint8_t *out,
    size_t outlen)
{
	crypto_auth_hmacsha256_state base, st;
	uint8_t u[32], t[32], ctr[4];
	uint32_t blk = 1;

	/* Keying the HMAC once and copying the state saves a hash per round. */
	crypto_auth_hmacsha256_init(&base, pw, pwlen);
	while (outlen > 0) {
		size_t take = outlen < 32 ? outlen : 32;

		ctr[0] = (uint8_t)(blk >> 24);
		ctr[1] = (uint8_t)(blk >> 16);
		ctr[2] = (uint8_t)(blk >> 8);
		ctr[3] = (uint8_t)blk;
		st = base;
		crypto_auth_hmacsha256_update(&st, salt, saltlen);
		crypto_auth_hmacsha256_update(&st, ctr, sizeof(ctr));
		crypto_auth_hmacsha256_final(&st, u);
		memcpy(t, u, sizeof(t));
		for (uint64_t i = 1; i < c; i++) {
			st = base;
			crypto_auth_hmacsha256_update(&st, u, sizeof(u));
			crypto_auth_hmacsha256_final(&st, u);
			for (size_t j = 0; j < sizeof(t); j++)
				t[j] ^= u[j];
		}
		memcpy(out, t, take);
		out += take;
		outlen -= take;
		blk++;
	}
	sodium_memzero(&base, sizeof(base));
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(u, sizeof(u));
	sodium_memzero(t, sizeof(t));
}

/*
 * Only the first 32 bytes of dk are used. PBKDF2 output blocks (and so
 * scrypt's final PBKDF2) are independent of dklen, so a larger dklen in the
 * file yields the same prefix and need not be computed.
 */
static int derive(const struct ks_file *ks, const char *pw, size_t pwlen,
    uint8_t dk[static 32], char *err, size_t errlen)
{
	const uint8_t *p = (const uint8_t *)(pw != NULL ? pw : "");

	if (sodium_init() < 0) {
		strbuf_seterr(err, errlen, "keystore: libsodium init failed");
		return -EIO;
	}
	if (ks->kdf == KS_PBKDF2) {
		keystore_pbkdf2_sha256(p, pwlen, ks->salt, ks->saltlen, ks->c,
		    dk, 32);
		return 0;
	}
	errno = 0;
	if (crypto_pwhash_scryptsalsa208sha256_ll(p, pwlen, ks->salt,
		ks->saltlen, ks->n, (uint32_t)ks->r, (uint32_t)ks->p, dk,
		32) != 0) {
		int e = errno == ENOMEM ? ENOMEM : EINVAL;

		sodium_memzero(dk, 32);
		strbuf_seterr(err, errlen, "keystore: scrypt failed: %s",
		    e == ENOMEM ? "out of memory" : "parameters refused");
		return -e;
	}
	return 0;
}

static void compute_mac(const uint8_t dk[static 32], const uint8_t *ct,
    size_t ctlen, uint8_t mac[static 32])
{
	struct keccak_ctx k;

	keccak_init(&k);
	keccak_update(&k, dk + 16, 16);
	keccak_update(&k, ct, ctlen);
	keccak_final(&k, mac);
}

int keystore_check(const char *json, size_t len, uint64_t *work, char *err,
    size_t errlen)
{
	struct ks_file ks;
	int ret;

	ret = parse_v3(json, len, &ks, err, errlen);
	if (ret == 0 && work != NULL)
		*work = ks.kdf == KS_SCRYPT ? ks.n * ks.r * ks.p : ks.c;
	return ret;
}

int keystore_address(const char *json, size_t len, uint8_t addr[static 20],
    char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *root = NULL;
	int ret = -EINVAL;

	if (len > KEYSTORE_MAX) {
		strbuf_seterr(err, errlen, "keystore: larger than %d bytes: %zu",
		    KEYSTORE_MAX, len);
		goto out;
	}
	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (root == NULL || !cJSON_IsObject(root)) {
		strbuf_seterr(err, errlen, "keystore: not a JSON object");
		goto out;
	}
	ret = parse_address(root, addr, err, errlen);
out:
	cJSON_Delete(root);
	return ret;
}

int keystore_decrypt(const char *json, size_t len, const char *password,
    size_t pwlen, uint8_t priv[static 32], char *err, size_t errlen)
{
	struct ks_file ks;
	uint8_t dk[32], mac[32], plain[32], pub[64], addr[20];
	char want[43], got[43];
	int ret;

	memset(plain, 0, sizeof(plain));
	ret = parse_v3(json, len, &ks, err, errlen);
	if (ret != 0)
		goto out;
	ret = derive(&ks, password, pwlen, dk, err, errlen);
	if (ret != 0)
		goto out;
	compute_mac(dk, ks.ct, ks.ctlen, mac);
	if (sodium_memcmp(mac, ks.mac, sizeof(mac)) != 0) {
		strbuf_seterr(err, errlen,
		    "keystore: crypto.mac: mismatch (wrong password or corrupt "
		    "file)");
		ret = -EACCES;
		goto out;
	}
	/* Legacy files hold 30/31-byte keys: left-pad, like ToECDSAUnsafe. */
	ret = aesctr_apply(dk, ks.iv, ks.ct, ks.ctlen,
	    plain + sizeof(plain) - ks.ctlen, err, errlen);
	if (ret != 0)
		goto out;
	if (!ethkey_priv_valid(plain)) {
		strbuf_seterr(err, errlen,
		    "keystore: crypto.ciphertext: decrypts to an invalid "
		    "secp256k1 key");
		ret = -EINVAL;
		goto out;
	}
	/* geth's GetKey: "key content mismatch". */
	if (ks.has_addr) {
		ret = ethkey_pubkey(plain, pub);
		if (ret != 0)
			goto out;
		ethkey_address(pub, addr);
		if (memcmp(addr, ks.addr, sizeof(addr)) != 0) {
			ethkey_checksum_hex(ks.addr, want);
			ethkey_checksum_hex(addr, got);
			strbuf_seterr(err, errlen,
			    "keystore: address: %s does not match the key's "
			    "address %s",
			    want, got);
			ret = -EINVAL;
			goto out;
		}
	}
	memcpy(priv, plain, sizeof(plain));
	ret = 0;
out:
	if (ret != 0)
		sodium_memzero(priv, 32);
	sodium_memzero(dk, sizeof(dk));
	sodium_memzero(plain, sizeof(plain));
	sodium_memzero(&ks, sizeof(ks));
	return ret;
}

int keystore_encrypt_with(const uint8_t priv[static 32], const char *password,
    size_t pwlen, unsigned long n, unsigned r, unsigned p,
    const uint8_t salt[static 32], const uint8_t iv[static 16],
    const uint8_t uuid[static 16], char *out, size_t outlen)
{
	struct ks_file ks;
	uint8_t dk[32], mac[32], pub[64], addr[20], id[16];
	char addrhex[41], cthex[65], ivhex[33], salthex[65], machex[65];
	char idhex[33];
	int ret, w;

	if (outlen > 0)
		out[0] = '\0';
	ret = check_scrypt(n, r, p, NULL, 0);
	if (ret != 0)
		goto out;
	ret = ethkey_pubkey(priv, pub);
	if (ret != 0)
		goto out;
	ethkey_address(pub, addr);
	memset(&ks, 0, sizeof(ks));
	ks.kdf = KS_SCRYPT;
	ks.n = n;
	ks.r = r;
	ks.p = p;
	memcpy(ks.salt, salt, 32);
	ks.saltlen = 32;
	ret = derive(&ks, password, pwlen, dk, NULL, 0);
	if (ret != 0)
		goto out;
	/* -ENOSYS: aesctr_load_error() says why. */
	ret = aesctr_apply(dk, iv, priv, 32, ks.ct, NULL, 0);
	if (ret != 0)
		goto out;
	compute_mac(dk, ks.ct, 32, mac);
	/* RFC 4122 version 4, variant 10xx, like geth's uuid.NewRandom. */
	memcpy(id, uuid, sizeof(id));
	id[6] = (uint8_t)((id[6] & 0x0f) | 0x40);
	id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
	encoding_hex(addrhex, addr, sizeof(addr));
	encoding_hex(cthex, ks.ct, 32);
	encoding_hex(ivhex, iv, 16);
	encoding_hex(salthex, salt, 32);
	encoding_hex(machex, mac, sizeof(mac));
	encoding_hex(idhex, id, sizeof(id));
	/* geth's json.Marshal of encryptedKeyJSONV3; kdfparams keys sorted. */
	w = snprintf(out, outlen,
	    "{\"address\":\"%s\",\"crypto\":{\"cipher\":\"aes-128-ctr\","
	    "\"ciphertext\":\"%s\",\"cipherparams\":{\"iv\":\"%s\"},"
	    "\"kdf\":\"scrypt\",\"kdfparams\":{\"dklen\":32,\"n\":%lu,"
	    "\"p\":%u,\"r\":%u,\"salt\":\"%s\"},\"mac\":\"%s\"},"
	    "\"id\":\"%.8s-%.4s-%.4s-%.4s-%.12s\",\"version\":3}",
	    addrhex, cthex, ivhex, n, p, r, salthex, machex, idhex, idhex + 8,
	    idhex + 12, idhex + 16, idhex + 20);
	if (w < 0 || (size_t)w >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		ret = -ENOSPC;
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(dk, sizeof(dk));
	return ret;
}

int keystore_encrypt(const uint8_t priv[static 32], const char *password,
    size_t pwlen, enum keystore_kdf kdf, char *out, size_t outlen)
{
	uint8_t salt[32], iv[16], uuid[16];
	unsigned long n;
	unsigned p;

	switch (kdf) {
	case KEYSTORE_KDF_STANDARD:
		n = 1UL << 18;
		p = 1;
		break;
	case KEYSTORE_KDF_LIGHT:
		n = 1UL << 12;
		p = 6;
		break;
	default:
		return -EINVAL;
	}
	if (sodium_init() < 0)
		return -EIO;
	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(iv, sizeof(iv));
	randombytes_buf(uuid, sizeof(uuid));
	return keystore_encrypt_with(priv, password, pwlen, n, 8, p, salt, iv,
	    uuid, out, outlen);
}
