/*
 * AES-128-CTR through OpenSSL's EVP interface, with libcrypto loaded on
 * first use (see aesctr.h for why). The prototypes come from OpenSSL's own
 * headers, so a symbol found under a name has the type the headers give it.
 * libcrypto is NODELETE: once loaded it stays, and so does the table below.
 */
#include "peerd/aesctr.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>

#include <openssl/evp.h>
#include <openssl/opensslv.h>

#include "peerd/strbuf.h"

#ifdef PEERD_TESTING
#define TESTABLE
#else
#define TESTABLE static
#endif

/* The soname of the libcrypto these headers describe. */
#define AESCTR_STR2(x) #x
#define AESCTR_STR(x) AESCTR_STR2(x)
#define AESCTR_LIBCRYPTO "libcrypto.so." AESCTR_STR(OPENSSL_VERSION_MAJOR)

static struct {
	__typeof__(EVP_CIPHER_CTX_new) *ctx_new;
	__typeof__(EVP_CIPHER_CTX_free) *ctx_free;
	__typeof__(EVP_aes_128_ctr) *aes_128_ctr;
	__typeof__(EVP_EncryptInit_ex) *init;
	__typeof__(EVP_EncryptUpdate) *update;
	__typeof__(EVP_EncryptFinal_ex) *final;
	char err[160];
	int ret;
} evp;
static pthread_once_t evp_once = PTHREAD_ONCE_INIT;

static void *sym(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (p == NULL && evp.ret == 0) {
		strbuf_seterr(evp.err, sizeof(evp.err),
		    "AES-128-CTR: libcrypto has no %s", name);
		evp.ret = -ENOSYS;
	}
	return p;
}

/*
 * Fills the table from library soname (NULL: the libcrypto of these
 * headers); 0 or -ENOSYS (evp.err says why).
 */
TESTABLE int aesctr_load(const char *soname);
TESTABLE int aesctr_load(const char *soname)
{
	void *h;

	if (soname == NULL)
		soname = AESCTR_LIBCRYPTO;
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	evp.ret = 0;
	evp.err[0] = '\0';
	if (h == NULL) {
		const char *why = dlerror();

		strbuf_seterr(evp.err, sizeof(evp.err),
		    "AES-128-CTR: cannot load %s: %s", soname,
		    why != NULL ? why : "unknown error");
		return evp.ret = -ENOSYS;
	}
	/* POSIX: a dlsym() result converts to a function pointer. */
	*(void **)&evp.ctx_new = sym(h, "EVP_CIPHER_CTX_new");
	*(void **)&evp.ctx_free = sym(h, "EVP_CIPHER_CTX_free");
	*(void **)&evp.aes_128_ctr = sym(h, "EVP_aes_128_ctr");
	*(void **)&evp.init = sym(h, "EVP_EncryptInit_ex");
	*(void **)&evp.update = sym(h, "EVP_EncryptUpdate");
	*(void **)&evp.final = sym(h, "EVP_EncryptFinal_ex");
	return evp.ret;
}

static void evp_load(void)
{
	(void)aesctr_load(NULL);
}

int aesctr_apply(const uint8_t key[static 16], const uint8_t iv[static 16],
    const uint8_t *in, size_t len, uint8_t *out, char *err, size_t errlen)
{
	EVP_CIPHER_CTX *c;
	int outl = 0, finl = 0, ret = -EIO;

	pthread_once(&evp_once, evp_load);
	if (evp.ret != 0) {
		strbuf_seterr(err, errlen, "%s", evp.err);
		return evp.ret;
	}
	if (len > INT_MAX) {
		strbuf_seterr(err, errlen, "AES-128-CTR: input too long");
		return -EINVAL;
	}
	c = evp.ctx_new();
	if (c == NULL) {
		strbuf_seterr(err, errlen, "AES-128-CTR: out of memory");
		return -ENOMEM;
	}
	if (evp.init(c, evp.aes_128_ctr(), NULL, key, iv) == 1 &&
	    evp.update(c, out, &outl, in, (int)len) == 1 &&
	    evp.final(c, out + outl, &finl) == 1 &&
	    (size_t)outl + (size_t)finl == len)
		ret = 0;
	else
		strbuf_seterr(err, errlen, "AES-128-CTR: libcrypto failed");
	/* Frees and cleanses the expanded key. */
	evp.ctx_free(c);
	return ret;
}

const char *aesctr_load_error(void)
{
	return evp.err;
}
