/*
 * The network record: parse, check and render (pure), and the small edits
 * a node makes to it as members come and go. See netrecord.h.
 */
#include "peerd/netrecord.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "peerd/encoding.h"
#include "peerd/keccak.h"
#include "peerd/strbuf.h"

static const char *const consensus_names[] = {"raft", "istanbul", "qbft"};

void netrecord_hash(const void *data, size_t len, char out[static 67])
{
	uint8_t h[32];

	keccak_256(data, len, h);
	out[0] = '0';
	out[1] = 'x';
	encoding_hex(out + 2, h, 32);
	out[66] = '\0';
}

void netrecord_free(struct netrecord *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->count; i++)
		free(r->members[i].doc);
	free(r->members);
	r->members = NULL;
	r->count = 0;
}

static bool isalnum_ascii(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static bool hash_ok(const char *h)
{
	return strlen(h) == 66 && h[0] == '0' && h[1] == 'x' &&
	    encoding_is_lowerhex(h + 2, 64);
}

/*
 * An enode URL for node_id, as the node lists carry it: only the characters
 * a host name, an IP literal, a port and the query need; never a quote.
 */
static bool enode_ok(const char *enode, const char *node_id)
{
	size_t l = strlen(enode);

	if (l >= sizeof(((struct netrecord_member *)0)->enode) ||
	    strncmp(enode, "enode://", 8) != 0 ||
	    strncmp(enode + 8, node_id, 128) != 0 || enode[136] != '@')
		return false;
	for (const char *p = enode + 137; *p != '\0'; p++)
		if (!(isalnum_ascii(*p) || strchr(".-:[]?&=_", *p) != NULL))
			return false;
	return l > 137;
}

static int member_doc(struct netrecord_member *m, const char *doc, size_t len,
    char *err, size_t errlen)
{
	struct peerdoc d;
	struct peerdoc_expect ex = {.ordinal = (int)m->ordinal};
	char perr[256];

	if (peerdoc_parse(doc, len, &ex, &d, perr, sizeof(perr)) < 0) {
		strbuf_seterr(err, errlen, "members[ordinal %u].doc: %s",
		    m->ordinal, perr);
		return -EPROTO;
	}
	if (strcmp(d.node_id, m->node_id) != 0) {
		strbuf_seterr(err, errlen, "members[ordinal %u].doc: node_id "
		    "is not the member's", m->ordinal);
		return -EPROTO;
	}
	m->doc = malloc(len + 1);
	if (m->doc == NULL)
		return -ENOMEM;
	memcpy(m->doc, doc, len);
	m->doc[len] = '\0';
	m->doclen = len;
	return 0;
}

static int parse_member(const cJSON *j, size_t idx, long prev,
    struct netrecord_member *m, char *err, size_t errlen)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "ordinal");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "node_id");
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(j, "enode");
	const cJSON *ri = cJSON_GetObjectItemCaseSensitive(j, "raft_id");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "validator");
	const cJSON *doc = cJSON_GetObjectItemCaseSensitive(j, "doc");
	const cJSON *jo = cJSON_GetObjectItemCaseSensitive(j, "joined");

	if (!cJSON_IsObject(j)) {
		strbuf_seterr(err, errlen, "members[%zu]: not an object", idx);
		return -EPROTO;
	}
	if (!cJSON_IsNumber(o) || o->valuedouble < 0 ||
	    o->valuedouble >= NETRECORD_MEMBERS_MAX ||
	    o->valuedouble != (double)(unsigned)o->valuedouble ||
	    (long)o->valuedouble <= prev) {
		strbuf_seterr(err, errlen, "members[%zu].ordinal: not an "
		    "ordinal above the previous one", idx);
		return -EPROTO;
	}
	m->ordinal = (unsigned)o->valuedouble;
	if (!cJSON_IsString(id) || strlen(id->valuestring) != 128 ||
	    !encoding_is_lowerhex(id->valuestring, 128)) {
		strbuf_seterr(err, errlen, "members[ordinal %u].node_id: not "
		    "128 lowercase hex", m->ordinal);
		return -EPROTO;
	}
	memcpy(m->node_id, id->valuestring, 129);
	if (!cJSON_IsString(en) || !enode_ok(en->valuestring, m->node_id)) {
		strbuf_seterr(err, errlen, "members[ordinal %u].enode: not an "
		    "enode URL of the member's node_id", m->ordinal);
		return -EPROTO;
	}
	memcpy(m->enode, en->valuestring, strlen(en->valuestring) + 1);
	if (!cJSON_IsNumber(ri) || ri->valuedouble < 0 ||
	    ri->valuedouble > 65535 ||
	    ri->valuedouble != (double)(unsigned)ri->valuedouble) {
		strbuf_seterr(err, errlen, "members[ordinal %u].raft_id: not "
		    "0..65535", m->ordinal);
		return -EPROTO;
	}
	m->raft_id = (unsigned)ri->valuedouble;
	if (!cJSON_IsBool(v)) {
		strbuf_seterr(err, errlen, "members[ordinal %u].validator: not "
		    "a boolean", m->ordinal);
		return -EPROTO;
	}
	m->validator = cJSON_IsTrue(v);
	if (jo != NULL && !cJSON_IsBool(jo)) {
		strbuf_seterr(err, errlen, "members[ordinal %u].joined: not a "
		    "boolean", m->ordinal);
		return -EPROTO;
	}
	m->joined = cJSON_IsTrue(jo);
	if (doc == NULL || cJSON_IsNull(doc))
		return 0;
	if (!cJSON_IsString(doc)) {
		strbuf_seterr(err, errlen, "members[ordinal %u].doc: not a "
		    "string or null", m->ordinal);
		return -EPROTO;
	}
	return member_doc(m, doc->valuestring, strlen(doc->valuestring), err,
	    errlen);
}

int netrecord_parse(const char *buf, size_t len, struct netrecord *out,
    char *err, size_t errlen)
{
	const cJSON *v, *g, *c, *ms, *j;
	cJSON *root = NULL;
	size_t n, i = 0;
	long prev = -1;
	int r = -EPROTO;

	memset(out, 0, sizeof(*out));
	if (len > NETRECORD_MAX || memchr(buf, '\0', len) != NULL) {
		strbuf_seterr(err, errlen, "larger than %u bytes or holds a NUL",
		    NETRECORD_MAX);
		return -EPROTO;
	}
	root = cJSON_ParseWithLength(buf, len);
	if (!cJSON_IsObject(root)) {
		strbuf_seterr(err, errlen, "not a JSON object");
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "v");
	g = cJSON_GetObjectItemCaseSensitive(root, "genesis");
	c = cJSON_GetObjectItemCaseSensitive(root, "consensus");
	ms = cJSON_GetObjectItemCaseSensitive(root, "members");
	if (!cJSON_IsNumber(v) || v->valuedouble != NETRECORD_VERSION) {
		strbuf_seterr(err, errlen, "v: not %d", NETRECORD_VERSION);
		goto out;
	}
	if (!cJSON_IsString(g) || !hash_ok(g->valuestring)) {
		strbuf_seterr(err, errlen, "genesis: not 0x and 64 lowercase "
		    "hex");
		goto out;
	}
	memcpy(out->genesis, g->valuestring, 67);
	for (i = 0; i < 3; i++)
		if (cJSON_IsString(c) &&
		    strcmp(c->valuestring, consensus_names[i]) == 0)
			break;
	if (i == 3) {
		strbuf_seterr(err, errlen, "consensus: not raft, istanbul or "
		    "qbft");
		goto out;
	}
	out->consensus = (enum consensus)i;
	n = cJSON_IsArray(ms) ? (size_t)cJSON_GetArraySize(ms) : 0;
	if (n == 0 || n > NETRECORD_MEMBERS_MAX) {
		strbuf_seterr(err, errlen, "members: not an array of 1..%u",
		    NETRECORD_MEMBERS_MAX);
		goto out;
	}
	out->members = calloc(n, sizeof(*out->members));
	if (out->members == NULL) {
		r = -ENOMEM;
		goto out;
	}
	i = 0;
	cJSON_ArrayForEach(j, ms) {
		r = parse_member(j, i, prev, &out->members[i], err, errlen);
		out->count = i + 1;
		if (r < 0)
			goto out;
		prev = (long)out->members[i].ordinal;
		i++;
	}
	r = 0;
out:
	cJSON_Delete(root);
	if (r < 0)
		netrecord_free(out);
	return r;
}

struct strbuf_dyn {
	char *p;
	size_t len, cap;
	int err;
};

static void put(struct strbuf_dyn *b, const char *s, size_t len)
{
	if (b->err != 0)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + len + 1)
			cap *= 2;
		if (cap > NETRECORD_MAX * 2 || (p = realloc(b->p, cap)) == NULL) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

static void putf(struct strbuf_dyn *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void putf(struct strbuf_dyn *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= sizeof(tmp)) {
		b->err = -ENOBUFS;
		return;
	}
	put(b, tmp, (size_t)w);
}

/* s as a JSON string: documents never need escapes but their quotes. */
static int put_json_str(struct strbuf_dyn *b, const char *s, size_t len)
{
	size_t i, from = 0;

	put(b, "\"", 1);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			put(b, s + from, i - from);
			put(b, ch == '"' ? "\\\"" : "\\\\", 2);
			from = i + 1;
		} else if (ch < 0x20) {
			return -EINVAL; /* never in a valid document */
		}
	}
	put(b, s + from, len - from);
	put(b, "\"", 1);
	return 0;
}

int netrecord_render(const struct netrecord *r, char **out, size_t *len)
{
	struct strbuf_dyn b = {0};

	*out = NULL;
	*len = 0;
	if (!hash_ok(r->genesis) || (unsigned)r->consensus > 2)
		return -EINVAL;
	putf(&b, "{\"v\":%d,\"genesis\":\"%s\",\"consensus\":\"%s\","
	    "\"members\":[\n", NETRECORD_VERSION, r->genesis,
	    consensus_names[r->consensus]);
	for (size_t i = 0; i < r->count; i++) {
		const struct netrecord_member *m = &r->members[i];

		putf(&b, "{\"ordinal\":%u,\"node_id\":\"%s\",\"enode\":\"%s\","
		    "\"raft_id\":%u,\"validator\":%s,%s\"doc\":", m->ordinal,
		    m->node_id, m->enode, m->raft_id,
		    m->validator ? "true" : "false",
		    m->joined ? "\"joined\":true," : "");
		if (m->doc == NULL)
			put(&b, "null", 4);
		else if (put_json_str(&b, m->doc, m->doclen) < 0)
			b.err = -EINVAL;
		put(&b, i + 1 < r->count ? "},\n" : "}\n", i + 1 < r->count ?
		    3 : 2);
	}
	put(&b, "]}\n", 3);
	if (b.err != 0) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

static size_t strip_nl(const char *line, size_t len)
{
	return len > 0 && line[len - 1] == '\n' ? len - 1 : len;
}

int netrecord_from_docs(struct netrecord *r, enum consensus c,
    const struct peerdoc *peers, const char *const *lines,
    const size_t *lens, const char *const *enodes, size_t n,
    const char genesis_hash[static 67])
{
	memset(r, 0, sizeof(*r));
	if (n == 0 || n > NETRECORD_MEMBERS_MAX || !hash_ok(genesis_hash))
		return -EINVAL;
	r->members = calloc(n, sizeof(*r->members));
	if (r->members == NULL)
		return -ENOMEM;
	memcpy(r->genesis, genesis_hash, 67);
	r->consensus = c;
	for (size_t i = 0; i < n; i++) {
		struct netrecord_member *m = &r->members[i];
		size_t l = strip_nl(lines[i], lens[i]);

		r->count = i + 1;
		m->ordinal = peers[i].ordinal;
		memcpy(m->node_id, peers[i].node_id, sizeof(m->node_id));
		if (peers[i].ordinal != i || strlen(enodes[i]) >=
		    sizeof(m->enode) || !enode_ok(enodes[i], m->node_id)) {
			netrecord_free(r);
			return -EINVAL;
		}
		memcpy(m->enode, enodes[i], strlen(enodes[i]) + 1);
		m->raft_id = c == CONSENSUS_RAFT ? (unsigned)i + 1 : 0;
		m->validator = c != CONSENSUS_RAFT;
		m->doc = malloc(l + 1);
		if (m->doc == NULL) {
			netrecord_free(r);
			return -ENOMEM;
		}
		memcpy(m->doc, lines[i], l);
		m->doc[l] = '\0';
		m->doclen = l;
	}
	return 0;
}

int netrecord_from_static_nodes(struct netrecord *r, enum consensus c,
    const char *json, size_t len, const char genesis_hash[static 67],
    char *err, size_t errlen)
{
	cJSON *root = NULL;
	const cJSON *j;
	size_t n, i = 0;
	int ret = -EPROTO;

	memset(r, 0, sizeof(*r));
	if (!hash_ok(genesis_hash))
		return -EINVAL;
	root = cJSON_ParseWithLength(json, len);
	n = cJSON_IsArray(root) ? (size_t)cJSON_GetArraySize(root) : 0;
	if (n == 0 || n > NETRECORD_MEMBERS_MAX) {
		strbuf_seterr(err, errlen, "not an array of 1..%u enode URLs",
		    NETRECORD_MEMBERS_MAX);
		goto out;
	}
	r->members = calloc(n, sizeof(*r->members));
	if (r->members == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(r->genesis, genesis_hash, 67);
	r->consensus = c;
	cJSON_ArrayForEach(j, root) {
		struct netrecord_member *m = &r->members[i];
		const char *u = cJSON_IsString(j) ? j->valuestring : "";

		r->count = i + 1;
		m->ordinal = (unsigned)i;
		if (strlen(u) < 137 || strncmp(u, "enode://", 8) != 0 ||
		    !encoding_is_lowerhex(u + 8, 128) ||
		    !enode_ok(u, u + 8)) {
			strbuf_seterr(err, errlen, "entry %zu: not an enode URL",
			    i);
			goto out;
		}
		memcpy(m->node_id, u + 8, 128);
		m->node_id[128] = '\0';
		memcpy(m->enode, u, strlen(u) + 1);
		m->raft_id = c == CONSENSUS_RAFT ? (unsigned)i + 1 : 0;
		m->validator = c != CONSENSUS_RAFT;
		i++;
	}
	ret = 0;
out:
	cJSON_Delete(root);
	if (ret < 0)
		netrecord_free(r);
	return ret;
}

struct netrecord_member *netrecord_find(const struct netrecord *r,
    unsigned ordinal)
{
	size_t lo = 0, hi = r->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->members[mid].ordinal == ordinal)
			return &r->members[mid];
		if (r->members[mid].ordinal < ordinal)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int netrecord_update(struct netrecord *r, const struct peerdoc *doc,
    const char *line, size_t len, const char *enode)
{
	struct netrecord_member *m = netrecord_find(r, doc->ordinal);
	size_t l = strip_nl(line, len);
	bool same_doc, same_enode;
	char *copy;

	if (m == NULL)
		return -ENOENT;
	if (strcmp(m->node_id, doc->node_id) != 0)
		return -EEXIST;
	if (strlen(enode) >= sizeof(m->enode) || !enode_ok(enode, m->node_id))
		return -EINVAL;
	same_doc = m->doc != NULL && m->doclen == l &&
	    memcmp(m->doc, line, l) == 0;
	same_enode = strcmp(m->enode, enode) == 0;
	if (same_doc && same_enode)
		return 0;
	if (!same_doc) {
		copy = malloc(l + 1);
		if (copy == NULL)
			return -ENOMEM;
		memcpy(copy, line, l);
		copy[l] = '\0';
		free(m->doc);
		m->doc = copy;
		m->doclen = l;
	}
	memcpy(m->enode, enode, strlen(enode) + 1);
	return 1;
}

int netrecord_add(struct netrecord *r, const struct peerdoc *doc,
    const char *line, size_t len, const char *enode)
{
	struct netrecord_member *ms, *m;
	size_t l = strip_nl(line, len), at = 0;

	if (netrecord_find(r, doc->ordinal) != NULL)
		return -EEXIST;
	if (r->count >= NETRECORD_MEMBERS_MAX ||
	    doc->ordinal >= NETRECORD_MEMBERS_MAX)
		return -E2BIG;
	if (strlen(enode) >= sizeof(m->enode) || !enode_ok(enode, doc->node_id))
		return -EINVAL;
	ms = realloc(r->members, (r->count + 1) * sizeof(*ms));
	if (ms == NULL)
		return -ENOMEM;
	r->members = ms;
	while (at < r->count && ms[at].ordinal < doc->ordinal)
		at++;
	memmove(&ms[at + 1], &ms[at], (r->count - at) * sizeof(*ms));
	m = &ms[at];
	memset(m, 0, sizeof(*m));
	r->count++;
	m->ordinal = doc->ordinal;
	memcpy(m->node_id, doc->node_id, sizeof(m->node_id));
	memcpy(m->enode, enode, strlen(enode) + 1);
	m->joined = true;
	m->doc = malloc(l + 1);
	if (m->doc == NULL)
		return -ENOMEM; /* a member without its document, as rebuilt */
	memcpy(m->doc, line, l);
	m->doc[l] = '\0';
	m->doclen = l;
	return 0;
}

int netrecord_remove(struct netrecord *r, unsigned ordinal)
{
	struct netrecord_member *m = netrecord_find(r, ordinal);
	size_t at;

	if (m == NULL)
		return -ENOENT;
	at = (size_t)(m - r->members);
	free(m->doc);
	memmove(m, m + 1, (r->count - at - 1) * sizeof(*m));
	r->count--;
	return 0;
}

int netrecord_enodes(const struct netrecord *r, const char ***out)
{
	const char **e = calloc(r->count ? r->count : 1, sizeof(*e));

	*out = NULL;
	if (e == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < r->count; i++)
		e[i] = r->members[i].enode;
	*out = e;
	return 0;
}
