/*
 * The resident-memory floor of quorum-peerd's libraries: a program that
 * links what the daemon links (libcurl, libmicrohttpd, libsodium,
 * libsecp256k1, cJSON; libcrypto it loads only for a keystore), does
 * nothing with them but what any use of libcurl does (one transfer:
 * Debian's libcurl initialises libssh2 and with it OpenSSL on the way), and
 * prints its VmRSS before and after.
 * bench/convergence.sh compares the daemon's RSS with this, built against
 * the same libraries as the daemon (Debian's or the lean ones).
 *
 *   cc bench/rss-floor.c -o rss-floor -lcurl -lmicrohttpd -lsodium \
 *       -lsecp256k1 -lcjson
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <secp256k1.h>
#include <sodium.h>

static long vmrss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0 &&
		    sscanf(line + 6, "%ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int main(void)
{
	long at_start = vmrss_kb();
	CURL *e;

	/* Referenced, so that --as-needed keeps every library mapped. */
	(void)MHD_get_version();
	if (sodium_init() < 0)
		return 1;
	(void)cJSON_Version();
	(void)secp256k1_context_static;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	e = curl_easy_init();
	if (e != NULL) {
		/* Nothing listens on port 1: refused at once. */
		curl_easy_setopt(e, CURLOPT_URL, "http://127.0.0.1:1/");
		(void)curl_easy_perform(e);
		curl_easy_cleanup(e);
	}
	printf("%ld %ld\n", at_start, vmrss_kb());
	return 0;
}
