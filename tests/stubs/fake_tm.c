/*
 * fake-tm: a stand-in for the transaction manager that checks its input.
 *
 *   tessera -configfile <tessera-config.json>     (log prefix TESSERA,
 *                                                   knobs FAKE_TESSERA_*)
 *   constellation-node <tm.conf>                  (CONSTELLATION,
 *                                                   FAKE_CONSTELLATION_*)
 *
 * It validates the config the way the real one would refuse it (formats.md
 * §7-8: server set, addresses, key files), creates the Q2T unix socket and
 * answers GET /upcheck with 200 "I'm up!" and /version (200 for Tessera,
 * 404 for Constellation, which is how geth tells them apart). Every signal
 * and its start-up facts go to FAKE_LOG. Knobs: _ON_TERM, _EXIT_AFTER,
 * _ORPHANS, _STRAY (fake_common.h), _SOCKET=0 (never create the socket).
 *
 * As upstream, per release and image layout:
 *  - Tessera 21.x and newer is started by its distribution's bin/tessera
 *    (this binary named tessera); up to 21.4 the images carry only an uber
 *    jar, started `java [JVM options] -jar .../tessera-app.jar ARGS` (this
 *    binary named java: the e2e stand-in image's JAVA_HOME). The log says
 *    which ("TESSERA launcher bin" / "TESSERA launcher jar <path>").
 *  - FAKE_TESSERA_VERSION (default 24.4.1) is what /version answers and
 *    decides the H2 database: up to 21.x H2 1.4 (file format 1), from 22 H2
 *    2.x (format 2), which cannot open a format 1 file: Tessera then stops
 *    with H2's "The write format 1 is smaller than the supported format 2"
 *    (and 21.x cannot open a format 2 file). The database is the jdbc url's
 *    <path>.mv.db; the stand-in writes only its header line.
 *  - Constellation's options are getOpt's: a long option's value must be
 *    attached (--verbosity=3); a second non-option is refused, "Only one
 *    configuration file can be specified".
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fake_common.h"

static struct fake F;
static bool tessera;
static int lfd = -1;
static char tessera_version[32] = "24.4.1";

static char *slurp(const char *path, size_t max, size_t *len)
{
	FILE *fp = fopen(path, "re");
	char *buf;
	size_t n;

	if (fp == NULL)
		fake_die(&F, 1, "cannot read %s: %s", path, strerror(errno));
	buf = malloc(max + 1);
	if (buf == NULL)
		fake_die(&F, 1, "out of memory");
	n = fread(buf, 1, max, fp);
	fclose(fp);
	if (n == max)
		fake_die(&F, 1, "%s: larger than %zu bytes", path, max);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/* Standard base64 of 32 bytes: 43 chars and one '='. */
static bool b64_32(const char *s, size_t len)
{
	if (len != 44 || s[43] != '=')
		return false;
	for (size_t i = 0; i < 43; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/')
			return false;
	return true;
}

static void check_key_json(const char *what, const cJSON *k)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(k, "type");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(k, "data");
	const cJSON *bytes;

	if (!cJSON_IsString(type) || !cJSON_IsObject(data))
		fake_die(&F, 1, "%s: not a key file ({\"type\",\"data\"})",
		    what);
	if (strcmp(type->valuestring, "unlocked") != 0)
		fake_die(&F, 1, "%s: type \"%s\": only unlocked keys can be "
		    "loaded without passwords", what, type->valuestring);
	bytes = cJSON_GetObjectItemCaseSensitive(data, "bytes");
	if (!cJSON_IsString(bytes) ||
	    !b64_32(bytes->valuestring, strlen(bytes->valuestring)))
		fake_die(&F, 1, "%s: data.bytes is not base64 of 32 bytes",
		    what);
}

static void check_pub_file(const char *path)
{
	size_t len;
	char *s = slurp(path, 4096, &len);

	/* Tessera reads the file raw: no trailing newline allowed. */
	if (!b64_32(s, len))
		fake_die(&F, 1, "%s: want exactly 44 base64 characters (no "
		    "newline), got %zu bytes", path, len);
	free(s);
}

static void check_key_file(const char *path)
{
	char *s = slurp(path, 65536, NULL);
	cJSON *k = cJSON_Parse(s);

	if (k == NULL)
		fake_die(&F, 1, "%s: not JSON", path);
	check_key_json(path, k);
	cJSON_Delete(k);
	free(s);
}

static const char *str_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void h2_open(const char *url);

/* Returns the socket path of the Q2T server. */
static void tessera_config(const char *path, char *sock, size_t socklen)
{
	char *txt = slurp(path, 1 << 20, NULL);
	cJSON *c = cJSON_Parse(txt);
	const cJSON *jdbc, *servers, *srv, *peer, *keys, *kd, *e;
	int p2p = 0, q2t = 0;

	if (c == NULL)
		fake_die(&F, 1, "%s: invalid JSON near \"%.20s\"", path,
		    cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
	jdbc = cJSON_GetObjectItemCaseSensitive(c, "jdbc");
	if (!cJSON_IsObject(jdbc) || str_member(jdbc, "url") == NULL)
		fake_die(&F, 1, "%s: jdbc.url is required", path);
	servers = cJSON_GetObjectItemCaseSensitive(c, "serverConfigs");
	if (!cJSON_IsArray(servers))
		fake_die(&F, 1, "%s: serverConfigs must be a list", path);
	sock[0] = '\0';
	cJSON_ArrayForEach(srv, servers)
	{
		const char *app = str_member(srv, "app");
		const char *addr = str_member(srv, "serverAddress");
		const char *ct = str_member(srv, "communicationType");
		const cJSON *en = cJSON_GetObjectItemCaseSensitive(srv,
		    "enabled");

		if (app == NULL || addr == NULL)
			fake_die(&F, 1, "%s: every server needs app and "
			    "serverAddress", path);
		if (ct == NULL || strcmp(ct, "REST") != 0)
			fake_die(&F, 1, "%s: server %s: communicationType must "
			    "be \"REST\"", path, app);
		if (en != NULL && !cJSON_IsBool(en))
			fake_die(&F, 1, "%s: server %s: enabled must be a "
			    "boolean", path, app);
		if (en != NULL && cJSON_IsFalse(en))
			continue;
		if (strncmp(addr, "unix:", 5) == 0) {
			if (addr[5] != '/')
				fake_die(&F, 1, "%s: server %s: unix socket "
				    "path must be absolute: %s", path, app,
				    addr);
		} else if (strncmp(addr, "http://", 7) == 0 ||
			   strncmp(addr, "https://", 8) == 0) {
			const char *host = strstr(addr, "://") + 3;
			const char *colon = strrchr(host, ':');

			if (colon == NULL || !isdigit((unsigned char)colon[1]))
				fake_die(&F, 1, "%s: server %s: %s has no "
				    "port", path, app, addr);
			if (strncmp(host, "0.0.0.0", 7) == 0)
				fake_die(&F, 1, "%s: server %s: 0.0.0.0 is "
				    "not a valid serverAddress (use "
				    "bindingAddress)", path, app);
		} else {
			fake_die(&F, 1, "%s: server %s: bad serverAddress %s",
			    path, app, addr);
		}
		if (strcmp(app, "P2P") == 0) {
			p2p++;
		} else if (strcmp(app, "Q2T") == 0) {
			q2t++;
			if (strncmp(addr, "unix:", 5) == 0 && sock[0] == '\0')
				snprintf(sock, socklen, "%s", addr + 5);
		} else if (strcmp(app, "ThirdParty") != 0 &&
			   strcmp(app, "ENCLAVE") != 0) {
			fake_die(&F, 1, "%s: unknown app \"%s\"", path, app);
		}
	}
	if (p2p != 1)
		fake_die(&F, 1, "%s: exactly one P2P server needed, got %d",
		    path, p2p);
	if (q2t < 1)
		fake_die(&F, 1, "%s: at least one Q2T server needed", path);
	if (sock[0] == '\0')
		fake_die(&F, 1, "%s: no Q2T server on a unix: address", path);
	peer = cJSON_GetObjectItemCaseSensitive(c, "peer");
	if (!cJSON_IsArray(peer))
		fake_die(&F, 1, "%s: peer must be a list", path);
	cJSON_ArrayForEach(e, peer)
	{
		const char *u = str_member(e, "url");

		if (u == NULL || strncmp(u, "http", 4) != 0)
			fake_die(&F, 1, "%s: every peer needs an http(s) url",
			    path);
	}
	keys = cJSON_GetObjectItemCaseSensitive(c, "keys");
	kd = cJSON_GetObjectItemCaseSensitive(keys, "keyData");
	if (!cJSON_IsArray(kd) || cJSON_GetArraySize(kd) < 1)
		fake_die(&F, 1, "%s: keys.keyData needs at least one key",
		    path);
	cJSON_ArrayForEach(e, kd)
	{
		const char *pubp = str_member(e, "publicKeyPath");
		const char *privp = str_member(e, "privateKeyPath");
		const char *pub = str_member(e, "publicKey");
		const cJSON *conf = cJSON_GetObjectItemCaseSensitive(e,
		    "config");
		const char *priv = str_member(e, "privateKey");

		if (pubp != NULL && privp != NULL) {
			check_pub_file(pubp);
			check_key_file(privp);
		} else if (pub != NULL && cJSON_IsObject(conf)) {
			if (!b64_32(pub, strlen(pub)))
				fake_die(&F, 1, "%s: keyData publicKey is not "
				    "base64 of 32 bytes", path);
			check_key_json("keyData.config", conf);
		} else if (pub != NULL && priv != NULL) {
			if (!b64_32(pub, strlen(pub)) ||
			    !b64_32(priv, strlen(priv)))
				fake_die(&F, 1, "%s: inline keys must be "
				    "base64 of 32 bytes", path);
		} else {
			fake_die(&F, 1, "%s: a keyData entry has neither key "
			    "paths nor inline keys", path);
		}
	}
	h2_open(str_member(jdbc, "url"));
	cJSON_Delete(c);
	free(txt);
}

/* A tiny TOML subset: key = "str" | int | ["str", ...]. */
struct toml {
	char url[256], socket[256], workdir[256];
	long port;
	char pubs[8][256], privs[8][256];
	int npub, npriv;
};

static int toml_list(char *v, char out[8][256], const char *path, int line)
{
	int n = 0;
	char *p = v + 1;

	for (;;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == ']')
			return n;
		if (*p != '"' || n == 8)
			fake_die(&F, 1, "%s:%d: bad list", path, line);
		char *q = strchr(p + 1, '"');

		if (q == NULL)
			fake_die(&F, 1, "%s:%d: unterminated string", path,
			    line);
		snprintf(out[n++], 256, "%.*s", (int)(q - p - 1), p + 1);
		p = q + 1;
	}
}

static void constellation_config(const char *path, char *sock, size_t len)
{
	char *txt = slurp(path, 1 << 20, NULL), *save = NULL, *l;
	struct toml t;
	static char scratch[8][256]; /* lists we only check */
	int line = 0;

	memset(&t, 0, sizeof(t));
	for (l = strtok_r(txt, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		char key[64], *eq, *v;

		line++;
		while (isspace((unsigned char)*l))
			l++;
		if (*l == '#' || *l == '\0')
			continue;
		eq = strchr(l, '=');
		if (eq == NULL)
			fake_die(&F, 1, "%s:%d: expected key = value", path,
			    line);
		snprintf(key, sizeof(key), "%.*s", (int)(eq - l), l);
		key[strcspn(key, " \t")] = '\0';
		v = eq + 1;
		while (isspace((unsigned char)*v))
			v++;
		if (*v == '"') {
			char *q = strchr(v + 1, '"');

			if (q == NULL)
				fake_die(&F, 1, "%s:%d: unterminated string",
				    path, line);
			*q = '\0';
			v++;
			if (strcmp(key, "url") == 0)
				snprintf(t.url, sizeof(t.url), "%s", v);
			else if (strcmp(key, "socket") == 0)
				snprintf(t.socket, sizeof(t.socket), "%s", v);
			else if (strcmp(key, "workdir") == 0)
				snprintf(t.workdir, sizeof(t.workdir), "%s", v);
		} else if (*v == '[') {
			if (strcmp(key, "publickeys") == 0)
				t.npub = toml_list(v, t.pubs, path, line);
			else if (strcmp(key, "privatekeys") == 0)
				t.npriv = toml_list(v, t.privs, path, line);
			else
				toml_list(v, scratch, path, line);
		} else if (isdigit((unsigned char)*v)) {
			if (strcmp(key, "port") == 0)
				t.port = strtol(v, NULL, 10);
		} else {
			fake_die(&F, 1, "%s:%d: bad value for %s", path, line,
			    key);
		}
	}
	free(txt);
	if (t.url[0] == '\0' || t.port <= 0 || t.port > 65535)
		fake_die(&F, 1, "%s: url and port are required", path);
	if (t.socket[0] == '\0')
		fake_die(&F, 1, "%s: no socket: geth could not reach us",
		    path);
	if (t.npub < 1 || t.npub != t.npriv)
		fake_die(&F, 1, "%s: publickeys and privatekeys must pair up",
		    path);
	for (int i = 0; i < t.npub; i++) {
		char p[600];

		snprintf(p, sizeof(p), "%s%s%s",
		    t.pubs[i][0] == '/' ? "" : t.workdir,
		    t.pubs[i][0] == '/' || !t.workdir[0] ? "" : "/", t.pubs[i]);
		check_pub_file(p);
		snprintf(p, sizeof(p), "%s%s%s",
		    t.privs[i][0] == '/' ? "" : t.workdir,
		    t.privs[i][0] == '/' || !t.workdir[0] ? "" : "/",
		    t.privs[i]);
		check_key_file(p);
	}
	if (t.socket[0] == '/' || t.workdir[0] == '\0')
		snprintf(sock, len, "%s", t.socket);
	else
		snprintf(sock, len, "%s/%s", t.workdir, t.socket);
}

static void on_conn(void *arg)
{
	char req[2048];
	const char *resp;
	ssize_t n;
	int c;
	struct timeval tv = {1, 0};

	(void)arg;
	c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = read(c, req, sizeof(req) - 1);
	if (n <= 0) {
		close(c);
		return;
	}
	req[n] = '\0';
	if (strncmp(req, "GET /upcheck ", 13) == 0)
		resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		       "Content-Length: 7\r\nConnection: close\r\n\r\nI'm up!";
	else if (strncmp(req, "GET /version ", 13) == 0 && tessera) {
		static char vr[256];

		snprintf(vr, sizeof(vr), "HTTP/1.1 200 OK\r\nContent-Type: "
		    "text/plain\r\nContent-Length: %zu\r\nConnection: close"
		    "\r\n\r\n%s", strlen(tessera_version), tessera_version);
		resp = vr;
	} else
		resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
		       "Connection: close\r\n\r\n";
	fake_log(&F, "http %.*s", (int)strcspn(req, "\r\n"), req);
	(void)!write(c, resp, strlen(resp));
	close(c);
}

/* Before fake_init (the log is not open yet): stderr and exit. */
static void early_die(const char *fmt, const char *arg)
{
	fprintf(stderr, "fake-tm: Fatal: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

/* java's own arguments up to -jar FILE; *first: Tessera's first one. */
static const char *java_jar(int argc, char **argv, int *first)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "-jar") != 0) {
		if (strcmp(argv[i], "-cp") == 0 ||
		    strcmp(argv[i], "-classpath") == 0)
			i++;
		else if (strncmp(argv[i], "-X", 2) != 0 &&
			 strncmp(argv[i], "-D", 2) != 0 &&
			 strcmp(argv[i], "-server") != 0)
			early_die("java: Unrecognized option: %s", argv[i]);
		i++;
	}
	if (i + 1 >= argc || strcmp(argv[i], "-jar") != 0)
		early_die("java: no -jar FILE (%s)", i < argc ? argv[i] : "");
	if (access(argv[i + 1], R_OK) != 0)
		early_die("Error: Unable to access jarfile %s", argv[i + 1]);
	if (strcmp(base_name(argv[i + 1]), "tessera-app.jar") != 0)
		early_die("java -jar %s: not Tessera's jar", argv[i + 1]);
	*first = i + 2;
	return argv[i + 1];
}

/* Tessera's CLI: -configfile FILE, -o/--override KEY=VALUE. */
static const char *tessera_args(int argc, char **argv, int first)
{
	const char *conf = NULL;

	for (int i = first; i < argc; i++) {
		if (strcmp(argv[i], "-configfile") == 0 ||
		    strcmp(argv[i], "--configfile") == 0) {
			conf = i + 1 < argc ? argv[++i] : NULL;
		} else if (strcmp(argv[i], "-o") == 0 ||
			   strcmp(argv[i], "--override") == 0) {
			if (i + 1 >= argc || strchr(argv[i + 1], '=') == NULL)
				early_die("%s needs KEY=VALUE", argv[i]);
			i++;
		} else if (argv[i][0] == '-') {
			early_die("Unknown option: '%s'", argv[i]);
		} else {
			early_die("unexpected argument '%s'", argv[i]);
		}
	}
	return conf;
}

/*
 * Constellation's getOpt (Constellation/Node/Config.hs): long options take
 * an optional value, attached only; -v[N|vv..]; --version, -V. Any other
 * non-option is the config file, and only one may be given.
 */
static const char *constellation_args(int argc, char **argv, int first)
{
	static const char *const longopts[] = {"url", "port", "workdir",
	    "socket", "othernodes", "publickeys", "privatekeys",
	    "alwayssendto", "passwords", "storage", "ipwhitelist", "tls",
	    "tlsservercert", "tlsserverchain", "tlsserverkey",
	    "tlsservertrust", "tlsknownclients", "tlsclientcert",
	    "tlsclientchain", "tlsclientkey", "tlsclienttrust",
	    "tlsknownservers", "verbosity", "generatekeys", NULL};
	const char *conf = NULL;

	for (int i = first; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "--", 2) == 0) {
			size_t n = strcspn(a + 2, "=");
			bool known = strcmp(a, "--version") == 0;

			for (int k = 0; longopts[k] != NULL && !known; k++)
				known = strlen(longopts[k]) == n &&
					strncmp(a + 2, longopts[k], n) == 0;
			if (!known)
				early_die("Unknown option: '%s'", a);
		} else if (a[0] == '-') {
			if (strcmp(a, "-V") != 0 && strcmp(a, "-?") != 0 &&
			    strncmp(a, "-v", 2) != 0)
				early_die("Unknown option: '%s'", a);
		} else if (conf == NULL) {
			conf = a;
		} else {
			early_die("Only one configuration file can be "
				  "specified (also '%s')", a);
		}
	}
	return conf;
}

/*
 * The H2 database of jdbc:h2:<path>[;...]: <path>.mv.db, by the file
 * format each H2 writes and reads (Tessera up to 21.x: H2 1.4.200, format
 * 1; from 22: H2 2.x, format 2).
 */
static void h2_open(const char *url)
{
	unsigned long major = strtoul(tessera_version, NULL, 10);
	int want = major >= 22 ? 2 : 1, have = -1;
	char path[600], head[256];
	const char *p;
	FILE *fp;
	size_t n;

	if (strncmp(url, "jdbc:h2:", 8) != 0)
		return;
	p = url + 8;
	snprintf(path, sizeof(path), "%.*s.mv.db", (int)strcspn(p, ";"), p);
	fp = fopen(path, "re");
	if (fp != NULL) {
		n = fread(head, 1, sizeof(head) - 1, fp);
		fclose(fp);
		head[n] = '\0';
		p = strstr(head, ",format:");
		if (strncmp(head, "H:2,", 4) == 0 && p != NULL)
			have = atoi(p + 8);
		if (have == 1 && want >= 2)
			fake_die(&F, 1, "org.h2.jdbc.JdbcSQLNonTransient"
			    "Exception: General error: \"The write format 1 "
			    "is smaller than the supported format 2 "
			    "[2.0.206/5]\" [50000-206] (%s)", path);
		if (have != want)
			fake_die(&F, 1, "org.h2.jdbc.JdbcSQLNonTransient"
			    "ConnectionException: Unsupported database file "
			    "version or invalid file header in file \"%s\" "
			    "[90048-200]", path);
		fake_log(&F, "h2 %s format %d", path, have);
		return;
	}
	fp = fopen(path, "wxe");
	if (fp == NULL || fprintf(fp, "H:2,block:2,blockSize:1000,chunk:1,"
				      "clean:1,created:18c2c2c2c2c,format:%d,"
				      "version:1,fletcher:00000000\n",
			      want) < 0 ||
	    fclose(fp) != 0)
		fake_die(&F, 1, "cannot create the H2 database %s", path);
	fake_log(&F, "h2 %s created format %d", path, want);
}

int main(int argc, char **argv)
{
	const char *conf = NULL, *v;
	char sock[600];
	struct sockaddr_un sa;

	const char *jar = NULL;
	int first = 1;

	/* Mode from the arguments only: the log must be opened first. */
	if (strcmp(base_name(argv[0]), "java") == 0) {
		/* The uber jar of Tessera up to 21.4: java [JVM options]
		 * -jar tessera-app.jar ARGS. */
		jar = java_jar(argc, argv, &first);
		tessera = true;
	}
	for (int i = first; i < argc && !tessera; i++)
		if (strcmp(argv[i], "-configfile") == 0 ||
		    strcmp(argv[i], "--configfile") == 0)
			tessera = true;
	conf = tessera ? tessera_args(argc, argv, first)
		       : constellation_args(argc, argv, first);
	if (tessera)
		fake_init(&F, "fake-tm", "TESSERA", "FAKE_TESSERA");
	else
		fake_init(&F, "fake-tm", "CONSTELLATION",
		    "FAKE_CONSTELLATION");
	fake_start_line(&F);
	if (tessera) {
		v = fake_knob(&F, "VERSION");
		if (v != NULL)
			snprintf(tessera_version, sizeof(tessera_version), "%s",
			    v);
		if (jar != NULL)
			fake_log(&F, "launcher jar %s", jar);
		else
			fake_log(&F, "launcher bin");
		fake_log(&F, "version %s", tessera_version);
	}
	if (conf == NULL)
		fake_die(&F, 1, tessera ? "-configfile needs a file"
					: "usage: constellation-node tm.conf");
	if (tessera)
		tessera_config(conf, sock, sizeof(sock));
	else
		constellation_config(conf, sock, sizeof(sock));
	fake_log(&F, "config ok %s socket=%s", conf, sock);

	v = fake_knob(&F, "SOCKET");
	if (v == NULL || strcmp(v, "0") != 0) {
		if (strlen(sock) >= sizeof(sa.sun_path))
			fake_die(&F, 1, "socket path too long: %s", sock);
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		memcpy(sa.sun_path, sock, strlen(sock) + 1);
		unlink(sock);
		lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd < 0 ||
		    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(lfd, 16) < 0)
			fake_die(&F, 1, "cannot listen on %s: %s", sock,
			    strerror(errno));
		fake_log(&F, "listening %s", sock);
	}
	fake_make_orphans(&F);
	fake_run(&F, lfd, on_conn, NULL);
}
