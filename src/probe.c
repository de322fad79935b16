/*
 * A healthcheck GET over libcurl. HTTP only, no redirects, bounded body,
 * bounded time: a probe must never hang a container runtime.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "peerd/probe.h"

#define PROBE_BODY_MAX (1u << 20)

struct sink {
	FILE *out;
	size_t seen;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *k = arg;
	size_t n = size * nmemb;

	k->seen += n;
	if (k->seen > PROBE_BODY_MAX)
		return 0; /* aborts the transfer */
	if (k->out != NULL)
		fwrite(p, 1, n, k->out);
	return n;
}

int probe_get(const char *url, unsigned timeout_s, FILE *out)
{
	struct sink k = {.out = out};
	CURL *c;
	CURLcode rc;
	long code = 0;
	int ret = 1;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "probe: cannot initialise libcurl\n");
		return 1;
	}
	c = curl_easy_init();
	if (c == NULL) {
		fprintf(stderr, "probe: cannot initialise libcurl\n");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)timeout_s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "quorum-peerd-probe");
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		fprintf(stderr, "probe: %s: %s\n", url,
		    k.seen > PROBE_BODY_MAX ? "answer larger than 1 MiB" :
		    curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		ret = 0;
	else
		fprintf(stderr, "probe: %s: HTTP %ld\n", url, code);
out:
	curl_easy_cleanup(c);
	curl_global_cleanup();
	if (out != NULL)
		fflush(out);
	return ret;
}
