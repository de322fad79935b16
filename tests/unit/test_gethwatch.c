#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "peerd/evloop.h"
#include "peerd/gethwatch.h"

#define ID1                                                                \
	"548b216e898b113c9e17bcc3c452882884e512dc62995fef5370ed8f8ab90396" \
	"f1a21ab6a12252ba4ec77eab28f066eafb8aa4e667c78c4a1f0786b149ddc603"
#define ID2                                                                \
	"ac08d0c351f0c03addf5e88894be59d34ad8ed73bd0d72aedab28b39c7d354c9" \
	"ce574b9fc0c8009e93647e5c9ce6a6c7aa8d45435bf7518f77e75d1de32623d2"
#define ADDR1 "0xe8e833a9973abaf5dea33215aba772b00169398c"
#define ADDR2 "0xd8dba507e85f116b1f7e231ca8525fc9008a6966"

/* ---- a geth on the loop, answering as Quorum 2.7.0 does ------------------ */

struct fake {
	struct evloop *l;
	char dir[64], path[128];
	int lfd;
	int cfd[8];
	char in[8][8192];
	size_t inlen[8];
	int ncl;
	bool raft, silent;
	/* answers */
	uint64_t block, peers;
	const char *role;    /* raft_role */
	const char *leader;  /* raft_leader; NULL: "no leader" error */
	const char *cluster; /* raft_cluster JSON */
	const char *vals;    /* istanbul_getValidators JSON */
	const char *addr;    /* istanbul_nodeAddress */
	int asked_addr;
	int asked_role;  /* raft_role */
	int requests;
};

static void reply(struct fake *f, int fd, double id, const char *body)
{
	char line[4096];
	int n = snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":%.0f,"
					     "%s}\n",
	    id, body);

	assert_true(n > 0 && (size_t)n < sizeof(line));
	assert_int_equal(send(fd, line, (size_t)n, MSG_NOSIGNAL), n);
	(void)f;
}

static void on_request(struct fake *f, int fd, const char *line)
{
	cJSON *j = cJSON_Parse(line);
	const cJSON *idj, *mj;
	const char *m;
	char body[3072];
	bool raft_m, ist_m;

	assert_non_null(j);
	idj = cJSON_GetObjectItem(j, "id");
	mj = cJSON_GetObjectItem(j, "method");
	assert_true(cJSON_IsNumber(idj) && cJSON_IsString(mj));
	m = mj->valuestring;
	f->requests++;
	raft_m = strncmp(m, "raft_", 5) == 0;
	ist_m = strncmp(m, "istanbul_", 9) == 0;
	if (f->silent) {
		cJSON_Delete(j);
		return;
	}
	if ((raft_m && !f->raft) || (ist_m && f->raft))
		snprintf(body, sizeof(body),
		    "\"error\":{\"code\":-32601,\"message\":\"the method %s "
		    "does not exist/is not available\"}",
		    m);
	else if (strcmp(m, "eth_blockNumber") == 0)
		snprintf(body, sizeof(body), "\"result\":\"0x%llx\"",
		    (unsigned long long)f->block);
	else if (strcmp(m, "net_peerCount") == 0)
		snprintf(body, sizeof(body), "\"result\":\"0x%llx\"",
		    (unsigned long long)f->peers);
	else if (strcmp(m, "eth_syncing") == 0)
		snprintf(body, sizeof(body), "\"result\":false");
	else if (strcmp(m, "raft_role") == 0 && ++f->asked_role > 0)
		snprintf(body, sizeof(body), "\"result\":\"%s\"", f->role);
	else if (strcmp(m, "raft_leader") == 0 && f->leader == NULL)
		snprintf(body, sizeof(body),
		    "\"error\":{\"code\":-32000,\"message\":\"no leader is "
		    "currently elected\"}");
	else if (strcmp(m, "raft_leader") == 0)
		snprintf(body, sizeof(body), "\"result\":\"%s\"", f->leader);
	else if (strcmp(m, "raft_cluster") == 0)
		snprintf(body, sizeof(body), "\"result\":%s", f->cluster);
	else if (strcmp(m, "istanbul_getValidators") == 0) {
		const cJSON *p = cJSON_GetObjectItem(j, "params");

		assert_string_equal(
		    cJSON_GetStringValue(cJSON_GetArrayItem(p, 0)), "latest");
		snprintf(body, sizeof(body), "\"result\":%s", f->vals);
	} else if (strcmp(m, "istanbul_nodeAddress") == 0) {
		f->asked_addr++;
		snprintf(body, sizeof(body), "\"result\":\"%s\"", f->addr);
	} else
		snprintf(body, sizeof(body),
		    "\"error\":{\"code\":-32601,\"message\":\"the method %s "
		    "does not exist/is not available\"}",
		    m);
	reply(f, fd, idj->valuedouble, body);
	cJSON_Delete(j);
}

static void close_client(struct fake *f, int i)
{
	evloop_unwatch(f->l, f->cfd[i]);
	close(f->cfd[i]);
	f->cfd[i] = -1;
}

static void on_client(void *arg, int fd, uint32_t ev)
{
	struct fake *f = arg;
	int i;
	char *nl;

	(void)ev;
	for (i = 0; i < f->ncl && f->cfd[i] != fd; i++)
		;
	assert_true(i < f->ncl);
	for (;;) {
		ssize_t r = read(fd, f->in[i] + f->inlen[i],
		    sizeof(f->in[i]) - 1 - f->inlen[i]);

		if (r <= 0) {
			if (r == 0 || errno != EAGAIN)
				close_client(f, i);
			return;
		}
		f->inlen[i] += (size_t)r;
		f->in[i][f->inlen[i]] = '\0';
		while ((nl = strchr(f->in[i], '\n')) != NULL) {
			*nl = '\0';
			on_request(f, fd, f->in[i]);
			f->inlen[i] -= (size_t)(nl + 1 - f->in[i]);
			memmove(f->in[i], nl + 1, f->inlen[i] + 1);
		}
	}
}

static void on_accept(void *arg, int fd, uint32_t ev)
{
	struct fake *f = arg;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)ev;
	if (c < 0)
		return;
	assert_true(f->ncl < 8);
	f->cfd[f->ncl] = c;
	f->inlen[f->ncl] = 0;
	f->ncl++;
	assert_int_equal(evloop_watch(f->l, c, EPOLLIN, on_client, f), 0);
}

static void fake_listen(struct fake *f)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	unlink(f->path);
	assert_true(strlen(f->path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 16), 0);
	assert_int_equal(evloop_watch(f->l, f->lfd, EPOLLIN, on_accept, f), 0);
}

/* Like a geth killed: the socket file stays, nobody listens. */
static void fake_kill(struct fake *f)
{
	for (int i = 0; i < f->ncl; i++)
		if (f->cfd[i] >= 0)
			close_client(f, i);
	f->ncl = 0;
	if (f->lfd >= 0) {
		evloop_unwatch(f->l, f->lfd);
		close(f->lfd);
	}
	f->lfd = -1;
}

static struct fake *fake_new(struct evloop *l, bool raft, bool listening)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->l = l;
	f->raft = raft;
	f->lfd = -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/gethwatch.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/geth.ipc", f->dir);
	f->block = 26;
	f->peers = 1;
	f->role = "minter";
	f->leader = ID1;
	f->cluster = "[{\"raftId\":2,\"nodeId\":\"" ID2 "\",\"p2pPort\":30398,"
		     "\"raftPort\":50401,\"hostname\":\"127.0.0.1\",\"role\":"
		     "\"verifier\",\"nodeActive\":true},{\"raftId\":1,"
		     "\"nodeId\":\"" ID1 "\",\"p2pPort\":30399,\"raftPort\":"
		     "50400,\"hostname\":\"127.0.0.1\",\"role\":\"minter\","
		     "\"nodeActive\":true}]";
	f->vals = "[\"" ADDR2 "\",\"" ADDR1 "\"]";
	f->addr = ADDR1;
	if (listening)
		fake_listen(f);
	return f;
}

static void fake_free(struct fake *f)
{
	fake_kill(f);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
}

/* ---- helpers ------------------------------------------------------------ */

struct changes {
	int n;
	struct gethwatch_state prev, cur;
};

static void on_change(void *arg, const struct gethwatch_state *prev,
    const struct gethwatch_state *cur)
{
	struct changes *c = arg;

	c->n++;
	c->prev = *prev;
	c->cur = *cur;
}

static void run_for(struct evloop *l, unsigned ms)
{
	uint64_t end = evloop_now() + ms;

	while (evloop_now() < end)
		assert_int_equal(evloop_run_once(l, 10), 0);
}

static void run_until_changes(struct evloop *l, const struct changes *c,
    int want, unsigned ms)
{
	uint64_t end = evloop_now() + ms;

	while (c->n < want && evloop_now() < end)
		assert_int_equal(evloop_run_once(l, 10), 0);
	assert_true(c->n >= want);
}

static const char *status(const struct gethwatch *w)
{
	static char buf[1024];
	size_t used = 0;

	assert_int_equal(gethwatch_status_json(w, buf, sizeof(buf), &used), 0);
	assert_int_equal(used, strlen(buf));
	return buf;
}

static struct gethwatch *watch(struct evloop *l, const struct fake *f,
    enum consensus cons, const char *node_id, const char *addr,
    struct changes *ch)
{
	struct gethwatch_config cfg = {
	    .socket_path = f->path,
	    .consensus = cons,
	    .node_id = node_id,
	    .address = addr,
	    .interval_ms = 100,
	    .timeout_ms = 200,
	};
	struct gethwatch *w = gethwatch_new(l, &cfg, on_change, ch);

	assert_non_null(w);
	return w;
}

/* ---- tests -------------------------------------------------------------- */

static void test_raft_status(void **state)
{
	struct evloop *l = evloop_new();
	struct fake *f = fake_new(l, true, true);
	struct changes ch = {0};
	struct gethwatch *w = watch(l, f, CONSENSUS_RAFT, ID1, NULL, &ch);
	const struct gethwatch_state *s = gethwatch_state(w);
	char m[1024];
	size_t used = 0;

	(void)state;
	assert_string_equal(status(w), "null");
	assert_int_equal(gethwatch_metrics(w, m, sizeof(m), &used), 0);
	assert_non_null(strstr(m, "\npeerd_geth_up 0\n"));
	run_for(l, 50);
	assert_int_equal(f->requests, 0); /* nothing before start */
	assert_int_equal(gethwatch_start(w), 0);
	assert_int_equal(gethwatch_start(w), -EALREADY);
	run_until_changes(l, &ch, 1, 1000);
	assert_false(ch.prev.answered);
	assert_true(ch.cur.answered && ch.cur.up);
	/* No raft_* in the round that found geth starting (they can
	 * deadlock a starting geth): the next round brings them. */
	assert_false(s->raft_valid);
	run_until_changes(l, &ch, 2, 1000);
	assert_string_equal(status(w),
	    "{\"block\":26,\"peers\":1,\"syncing\":false,\"raft\":{\"id\":1,"
	    "\"role\":\"minter\",\"leader\":1,\"members\":2},\"validators\":"
	    "null,\"validator\":null,\"up\":true,\"error\":null}");
	assert_true(s->raft_valid);
	assert_int_equal(s->raft_id, 1);
	assert_int_equal(s->leader_id, 1);
	assert_string_equal(s->reason, "");
	assert_true(s->last_ok_ms > 0);
	used = 0;
	assert_int_equal(gethwatch_metrics(w, m, sizeof(m), &used), 0);
	assert_string_equal(m,
	    "# HELP peerd_geth_up Whether geth answered eth_blockNumber on its "
	    "IPC socket in the latest check.\n"
	    "# TYPE peerd_geth_up gauge\n"
	    "peerd_geth_up 1\n"
	    "# HELP peerd_geth_block_height geth's latest block number "
	    "(eth_blockNumber; the last one seen while down).\n"
	    "# TYPE peerd_geth_block_height gauge\n"
	    "peerd_geth_block_height 26\n"
	    "# HELP peerd_geth_peers geth's connected peers (net_peerCount).\n"
	    "# TYPE peerd_geth_peers gauge\n"
	    "peerd_geth_peers 1\n");

	/* A new block alone is no change; a new leader is. */
	f->block = 27;
	run_for(l, 300);
	assert_int_equal(ch.n, 2);
	assert_int_equal(s->block, 27);
	f->leader = NULL;
	f->role = "";
	run_until_changes(l, &ch, 3, 1000);
	assert_string_equal(status(w),
	    "{\"block\":27,\"peers\":1,\"syncing\":false,\"raft\":{\"id\":1,"
	    "\"role\":\"\",\"leader\":null,\"members\":2},\"validators\":"
	    "null,\"validator\":null,\"up\":true,\"error\":null}");

	/* A joiner before it is added: [] and no ID. */
	f->cluster = "[]";
	f->leader = ID2;
	f->role = "verifier";
	run_until_changes(l, &ch, 4, 1000);
	assert_string_equal(status(w),
	    "{\"block\":27,\"peers\":1,\"syncing\":false,\"raft\":{\"id\":null,"
	    "\"role\":\"verifier\",\"leader\":null,\"members\":0},"
	    "\"validators\":null,\"validator\":null,\"up\":true,"
	    "\"error\":null}");
	/* One connection for everything. */
	assert_int_equal(f->ncl, 1);
	gethwatch_free(w);
	fake_free(f);
	evloop_free(l);
}

/*
 * A follower's raft_role/raft_cluster (they can deadlock Quorum 2.7.0) keep
 * their own pace whatever the interval: a joiner's geth is watched every
 * 100 ms, its role asked once in the first 10 s.
 */
static void test_follower_role_pace(void **state)
{
	struct evloop *l = evloop_new();
	struct fake *f = fake_new(l, true, true);
	struct changes ch = {0};
	struct gethwatch *w = watch(l, f, CONSENSUS_RAFT, ID1, NULL, &ch);
	int before;

	(void)state;
	f->leader = ID2;
	f->role = "learner";
	gethwatch_set_interval(w, 1); /* clamped to 100 ms */
	assert_int_equal(gethwatch_start(w), 0);
	run_until_changes(l, &ch, 2, 1000);
	assert_string_equal(gethwatch_state(w)->role, "learner");
	before = f->requests;
	run_for(l, 1500);
	/* 3 or 4 calls a round, a round every 100 ms */
	assert_true(f->requests - before >= 24);
	assert_int_equal(f->asked_role, 1);
	/* slowed down (clamped to 5 s): the round already due, then none */
	gethwatch_set_interval(w, 60000);
	before = f->requests;
	run_for(l, 1500);
	assert_true(f->requests - before <= 4);
	gethwatch_free(w);
	fake_free(f);
	evloop_free(l);
}

/*
 * A joiner's geth watched faster than configured is still not asked
 * raft_role/raft_cluster until the configured interval after its first
 * answer: its raft snapshot arrives then, and the calls can deadlock it.
 */
static void test_follower_role_not_at_start(void **state)
{
	struct evloop *l = evloop_new();
	struct fake *f = fake_new(l, true, true);
	struct changes ch = {0};
	struct gethwatch_config cfg = {.socket_path = f->path,
	    .consensus = CONSENSUS_RAFT, .node_id = ID1, .interval_ms = 1000,
	    .timeout_ms = 200};
	struct gethwatch *w = gethwatch_new(l, &cfg, on_change, &ch);
	int before;

	(void)state;
	assert_non_null(w);
	f->leader = ID2;
	f->role = "learner";
	gethwatch_set_interval(w, 100);
	assert_int_equal(gethwatch_start(w), 0);
	run_until_changes(l, &ch, 1, 1000); /* the first answer */
	before = f->requests;
	run_for(l, 600);
	assert_true(f->requests - before >= 12); /* rounds every 100 ms */
	assert_int_equal(f->asked_role, 0);
	run_for(l, 900);
	assert_int_equal(f->asked_role, 1);
	assert_string_equal(gethwatch_state(w)->role, "learner");
	gethwatch_free(w);
	fake_free(f);
	evloop_free(l);
}

static void test_istanbul_status(void **state)
{
	struct evloop *l = evloop_new();
	struct fake *f = fake_new(l, false, true);
	struct changes ch = {0};
	/* Own address unknown: learned from istanbul_nodeAddress, once. */
	struct gethwatch *w = watch(l, f, CONSENSUS_ISTANBUL, NULL, NULL, &ch);
	const struct gethwatch_state *s = gethwatch_state(w);

	(void)state;
	f->block = 6;
	f->peers = 0;
	gethwatch_check_now(w);
	run_until_changes(l, &ch, 1, 1000);
	assert_string_equal(status(w),
	    "{\"block\":6,\"peers\":0,\"syncing\":false,\"raft\":null,"
	    "\"validators\":2,\"validator\":true,\"up\":true,\"error\":null}");
	assert_true(s->bft_valid && s->validator);
	assert_false(s->raft_valid);
	run_for(l, 400);
	assert_int_equal(f->asked_addr, 1);
	gethwatch_free(w);

	/* Given (upper case is fine), and not in the list. */
	memset(&ch, 0, sizeof(ch));
	w = watch(l, f, CONSENSUS_QBFT, NULL,
	    "0x00000000000000000000000000000000000000AA", &ch);
	f->asked_addr = 0;
	gethwatch_check_now(w);
	run_until_changes(l, &ch, 1, 1000);
	assert_string_equal(status(w),
	    "{\"block\":6,\"peers\":0,\"syncing\":false,\"raft\":null,"
	    "\"validators\":2,\"validator\":false,\"up\":true,"
	    "\"error\":null}");
	assert_int_equal(f->asked_addr, 0);
	gethwatch_free(w);

	/* A raft watch on an istanbul geth: up, raft null. */
	memset(&ch, 0, sizeof(ch));
	w = watch(l, f, CONSENSUS_RAFT, ID1, NULL, &ch);
	gethwatch_check_now(w);
	run_until_changes(l, &ch, 1, 1000);
	assert_string_equal(status(w),
	    "{\"block\":6,\"peers\":0,\"syncing\":false,\"raft\":null,"
	    "\"validators\":null,\"validator\":null,\"up\":true,"
	    "\"error\":null}");
	gethwatch_free(w);
	fake_free(f);
	evloop_free(l);
}

static void test_up_down(void **state)
{
	struct evloop *l = evloop_new();
	struct fake *f = fake_new(l, true, false);
	struct changes ch = {0};
	struct gethwatch *w = watch(l, f, CONSENSUS_RAFT, ID2, NULL, &ch);
	const struct gethwatch_state *s = gethwatch_state(w);
	char buf[64];
	size_t used;
	uint64_t t0;

	(void)state;
	/* No socket yet: still null, with a reason. */
	assert_int_equal(gethwatch_start(w), 0);
	run_until_changes(l, &ch, 1, 1000);
	assert_false(s->answered || s->up);
	assert_string_equal(s->reason, "geth IPC: no socket");
	assert_string_equal(status(w), "null");
	run_for(l, 450);
	assert_int_equal(ch.n, 1); /* the same reason: no new change */

	/* geth starts: found within the fast retry (50 ms). */
	fake_listen(f);
	t0 = evloop_now();
	run_until_changes(l, &ch, 2, 1000);
	assert_true(evloop_now() - t0 <= 400);
	assert_true(s->up);
	run_until_changes(l, &ch, 3, 1000); /* raft_* in the next round */
	assert_int_equal(s->raft_id, 2);
	assert_int_equal(s->leader_id, 1);

	/* Stopped (SIGSTOP): no answer within the 200 ms timeout. */
	f->silent = true;
	run_until_changes(l, &ch, 4, 2000);
	assert_false(s->up);
	assert_string_equal(status(w),
	    "{\"block\":26,\"peers\":1,\"syncing\":false,\"raft\":{\"id\":2,"
	    "\"role\":\"minter\",\"leader\":1,\"members\":2},\"validators\":"
	    "null,\"validator\":null,\"up\":false,\"error\":\"geth IPC: no "
	    "answer in 0.2 s\"}");
	used = 0;
	assert_int_equal(gethwatch_metrics(w, NULL, 0, &used), -E2BIG);
	{
		char m[1024];

		assert_int_equal(gethwatch_metrics(w, m, sizeof(m), &used), 0);
		assert_non_null(strstr(m, "\npeerd_geth_up 0\n"));
		assert_non_null(strstr(m, "\npeerd_geth_block_height 26\n"));
	}

	/* Killed: the socket file stays, nobody listens. */
	fake_kill(f);
	run_until_changes(l, &ch, 5, 2000);
	assert_string_equal(s->reason, "geth IPC: connection refused");

	/* Respawned: check_now finds it quickly. */
	f->silent = false;
	fake_listen(f);
	t0 = evloop_now();
	gethwatch_check_now(w);
	run_until_changes(l, &ch, 6, 1000);
	assert_true(s->up);
	assert_true(evloop_now() - t0 < 100);

	/* -E2BIG leaves the buffer as it was. */
	memcpy(buf, "x", 2);
	used = 1;
	assert_int_equal(gethwatch_status_json(w, buf, sizeof(buf), &used),
	    -E2BIG);
	assert_int_equal(used, 1);
	assert_string_equal(buf, "x");
	gethwatch_free(w);
	fake_free(f);
	evloop_free(l);
}

struct own {
	struct gethwatch *w;
	int calls, err;
	char result[64];
};

static void on_own(void *arg, int err, const struct gethrpc_reply *r)
{
	struct own *o = arg;

	o->calls++;
	o->err = err;
	if (err == 0 && !r->is_error)
		snprintf(o->result, sizeof(o->result), "%.*s",
		    (int)r->result_len, r->result);
}

static void test_rpc_and_free(void **state)
{
	struct evloop *l = evloop_new();
	struct fake *f = fake_new(l, true, true);
	struct changes ch = {0};
	struct gethwatch *w = watch(l, f, CONSENSUS_RAFT, ID1, NULL, &ch);
	struct own o = {0}, o2 = {0};

	(void)state;
	assert_int_equal(gethrpc_call(gethwatch_rpc(w), "eth_blockNumber",
			     NULL, 0, on_own, &o),
	    0);
	for (uint64_t end = evloop_now() + 1000; o.calls == 0 &&
	     evloop_now() < end;)
		assert_int_equal(evloop_run_once(l, 10), 0);
	assert_int_equal(o.err, 0);
	assert_string_equal(o.result, "\"0x1a\"");
	/* A pending call of the caller gets -ECANCELED on free. */
	f->silent = true;
	assert_int_equal(gethrpc_call(gethwatch_rpc(w), "admin_addPeer",
			     "[\"enode://x\"]", 0, on_own, &o2),
	    0);
	gethwatch_check_now(w);
	run_for(l, 30);
	gethwatch_free(w);
	assert_int_equal(o2.calls, 1);
	assert_int_equal(o2.err, -ECANCELED);
	assert_int_equal(ch.n, 0);
	run_for(l, 300);
	gethwatch_free(NULL);
	fake_free(f);
	evloop_free(l);
}

static void test_config(void **state)
{
	struct evloop *l = evloop_new();
	struct gethwatch_config cfg = {.socket_path = "/tmp/x/geth.ipc",
	    .consensus = CONSENSUS_RAFT};
	struct gethwatch *w;

	(void)state;
	w = gethwatch_new(l, &cfg, NULL, NULL);
	assert_non_null(w);
	gethwatch_free(w);
	cfg.interval_ms = 5001;
	errno = 0;
	assert_null(gethwatch_new(l, &cfg, NULL, NULL));
	assert_int_equal(errno, EINVAL);
	cfg.interval_ms = 5000;
	cfg.node_id = "abc";
	assert_null(gethwatch_new(l, &cfg, NULL, NULL));
	cfg.node_id = ID1;
	cfg.address = "0x1234";
	assert_null(gethwatch_new(l, &cfg, NULL, NULL));
	cfg.address = ADDR1;
	w = gethwatch_new(l, &cfg, NULL, NULL);
	assert_non_null(w);
	gethwatch_free(w);
	cfg.consensus = (enum consensus)7;
	assert_null(gethwatch_new(l, &cfg, NULL, NULL));
	cfg.consensus = CONSENSUS_QBFT;
	cfg.socket_path = NULL;
	assert_null(gethwatch_new(l, &cfg, NULL, NULL));
	evloop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_raft_status),
	    cmocka_unit_test(test_follower_role_pace),
	    cmocka_unit_test(test_follower_role_not_at_start),
	    cmocka_unit_test(test_istanbul_status),
	    cmocka_unit_test(test_up_down),
	    cmocka_unit_test(test_rpc_and_free),
	    cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
