/* Shared machinery of the stand-ins: see fake_common.h. */
#include "fake_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int sigpipe_w = -1;
static void (*at_exit_fn)(void);

void fake_at_exit(void (*fn)(void))
{
	at_exit_fn = fn;
}

void fake_init(struct fake *f, const char *prog, const char *prefix,
    const char *knob)
{
	const char *path = getenv("FAKE_LOG");

	f->prog = prog;
	f->prefix = prefix;
	f->knob = knob;
	f->logfd = -1;
	if (path != NULL && path[0] != '\0') {
		f->logfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0644);
		if (f->logfd < 0) {
			fprintf(stderr, "%s: Fatal: cannot open FAKE_LOG %s: "
			    "%s\n", prog, path, strerror(errno));
			exit(1);
		}
	}
}

static void vlog(struct fake *f, const char *fmt, va_list ap)
{
	char line[2048];
	int n = snprintf(line, sizeof(line), "%s ", f->prefix);

	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line: O_APPEND keeps lines of both stubs whole. */
	if (f->logfd >= 0)
		(void)!write(f->logfd, line, (size_t)n);
}

void fake_log(struct fake *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(f, fmt, ap);
	va_end(ap);
}

void fake_die(struct fake *f, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: Fatal: %s\n", f->prog, msg);
	fake_log(f, "fail %s", msg);
	exit(code);
}

const char *fake_knob(struct fake *f, const char *name)
{
	char var[96];
	const char *v;

	snprintf(var, sizeof(var), "%s_%s", f->knob, name);
	v = getenv(var);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

static void status_field(const char *name, char *out, size_t len)
{
	FILE *fp = fopen("/proc/self/status", "re");
	char line[256];
	size_t nl = strlen(name);

	snprintf(out, len, "?");
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
			char *v = line + nl + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, len, "%s", v);
			break;
		}
	}
	fclose(fp);
}

void fake_start_line(struct fake *f)
{
	char blk[32], ign[32], fds[512] = "";
	size_t off = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fdlist[128], nfd = 0;

	status_field("SigBlk", blk, sizeof(blk));
	status_field("SigIgn", ign, sizeof(ign));
	while (d != NULL && (e = readdir(d)) != NULL && nfd < 128) {
		if (e->d_name[0] == '.')
			continue;
		fdlist[nfd++] = atoi(e->d_name);
	}
	/* Sorted, comma-separated. */
	for (int i = 0; i < nfd; i++)
		for (int j = i + 1; j < nfd; j++)
			if (fdlist[j] < fdlist[i]) {
				int t = fdlist[i];

				fdlist[i] = fdlist[j];
				fdlist[j] = t;
			}
	for (int i = 0; i < nfd && off < sizeof(fds) - 16; i++)
		off += (size_t)snprintf(fds + off, sizeof(fds) - off, "%s%d",
		    i ? "," : "", fdlist[i]);
	if (d != NULL)
		closedir(d);
	fake_log(f, "start pid=%d pgid=%d sid=%d ppid=%d blk=%s ign=%s fds=%s",
	    (int)getpid(), (int)getpgrp(), (int)getsid(0), (int)getppid(), blk,
	    ign, fds);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void close_from3(void)
{
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
}

void fake_make_orphans(struct fake *f)
{
	const char *v = fake_knob(f, "ORPHANS");
	int n = v != NULL ? atoi(v) : 0;
	const char *ms_s = fake_knob(f, "ORPHAN_MS");
	int ms = ms_s != NULL ? atoi(ms_s) : 300;

	for (int i = 0; i < n; i++) {
		pid_t p = fork();

		if (p == 0) {
			if (fork() == 0) {
				/* The orphan: outlives its parent a little. */
				close_from3();
				usleep((useconds_t)ms * 1000);
				_exit(0);
			}
			_exit(0);
		}
		if (p > 0)
			waitpid(p, NULL, 0);
	}
	if (n > 0)
		fake_log(f, "orphans %d", n);

	v = fake_knob(f, "STRAY");
	if (v != NULL && strcmp(v, "1") == 0) {
		int pp[2];
		pid_t p;

		if (pipe(pp) < 0)
			fake_die(f, 1, "pipe: %s", strerror(errno));
		p = fork();
		if (p == 0) {
			pid_t g = fork();

			if (g == 0) {
				/* The stray: in our process group, ignores
				 * TERM, dies of USR1 (the default action). */
				signal(SIGTERM, SIG_IGN);
				signal(SIGUSR1, SIG_DFL);
				close(pp[0]);
				close(pp[1]);
				close_from3();
				for (;;)
					pause();
			}
			(void)!write(pp[1], &g, sizeof(g));
			_exit(0);
		}
		close(pp[1]);
		if (p > 0) {
			pid_t g = 0;

			(void)!read(pp[0], &g, sizeof(g));
			waitpid(p, NULL, 0);
			fake_log(f, "stray pid=%d", (int)g);
		}
		close(pp[0]);
	}
}

static void on_sig(int sig)
{
	unsigned char b = (unsigned char)sig;
	int e = errno;

	(void)!write(sigpipe_w, &b, 1);
	errno = e;
}

__attribute__((noreturn)) static void die_by(struct fake *f, int sig)
{
	sigset_t m;

	fake_log(f, "exit sig%d", sig);
	if (at_exit_fn != NULL)
		at_exit_fn();
	signal(sig, SIG_DFL);
	sigemptyset(&m);
	sigaddset(&m, sig);
	sigprocmask(SIG_UNBLOCK, &m, NULL);
	raise(sig);
	_exit(128 + sig);
}

__attribute__((noreturn)) static void exit_with(struct fake *f, int code)
{
	fake_log(f, "exit %d", code);
	exit(code);
}

/* "secs:code" or "secs:sigN". */
static void parse_exit_after(struct fake *f, const char *v, double *at,
    int *code, int *sig)
{
	char *end;
	double secs = strtod(v, &end);

	if (end == v || *end != ':' || secs < 0)
		fake_die(f, 2, "%s_EXIT_AFTER=%s: want secs:code or secs:sigN",
		    f->knob, v);
	end++;
	if (strncmp(end, "sig", 3) == 0) {
		*sig = atoi(end + 3);
		if (*sig <= 0 || *sig >= 64)
			fake_die(f, 2, "%s_EXIT_AFTER=%s: bad signal", f->knob,
			    v);
	} else {
		char *e2;
		long c = strtol(end, &e2, 10);

		if (e2 == end || *e2 != '\0' || c < 0 || c > 255)
			fake_die(f, 2, "%s_EXIT_AFTER=%s: bad code", f->knob,
			    v);
		*code = (int)c;
	}
	*at = now_s() + secs;
}

void fake_run(struct fake *f, int extra_fd, void (*on_extra)(void *),
    void *arg)
{
	enum { T_DEFAULT, T_IGNORE, T_SLOW, T_EXIT } on_term = T_DEFAULT;
	int term_arg = 0, exit_code = -1, exit_sig = 0, pp[2];
	double exit_at = -1, slow_at = -1;
	const char *v = fake_knob(f, "ON_TERM");
	bool terminating = false;
	struct sigaction sa;

	if (v == NULL || strcmp(v, "default") == 0)
		on_term = T_DEFAULT;
	else if (strcmp(v, "ignore") == 0)
		on_term = T_IGNORE;
	else if (strncmp(v, "slow:", 5) == 0)
		on_term = T_SLOW, term_arg = atoi(v + 5);
	else if (strncmp(v, "exit:", 5) == 0)
		on_term = T_EXIT, term_arg = atoi(v + 5);
	else
		fake_die(f, 2, "%s_ON_TERM=%s: want default, ignore, slow:N "
		    "or exit:N", f->knob, v);
	v = fake_knob(f, "EXIT_AFTER");
	if (v != NULL)
		parse_exit_after(f, v, &exit_at, &exit_code, &exit_sig);

	if (pipe2(pp, O_CLOEXEC | O_NONBLOCK) < 0)
		fake_die(f, 1, "pipe: %s", strerror(errno));
	sigpipe_w = pp[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (int sig = 1; sig < 32; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD ||
		    sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ||
		    sig == SIGILL)
			continue;
		sigaction(sig, &sa, NULL);
	}
	for (;;) {
		struct pollfd pfd[2] = {{pp[0], POLLIN, 0},
		    {extra_fd, POLLIN, 0}};
		double next = -1, t = now_s();
		int timeout = -1;

		if (exit_at >= 0)
			next = exit_at;
		if (slow_at >= 0 && (next < 0 || slow_at < next))
			next = slow_at;
		if (next >= 0)
			timeout = next <= t ? 0 : (int)((next - t) * 1000) + 1;
		int r = poll(pfd, extra_fd >= 0 ? 2 : 1, timeout);

		if (r < 0 && errno != EINTR)
			fake_die(f, 1, "poll: %s", strerror(errno));
		t = now_s();
		if (slow_at >= 0 && t >= slow_at)
			exit_with(f, 0);
		if (exit_at >= 0 && t >= exit_at) {
			if (exit_sig > 0)
				die_by(f, exit_sig);
			exit_with(f, exit_code);
		}
		if (r > 0 && (pfd[0].revents & POLLIN)) {
			unsigned char b;

			while (read(pp[0], &b, 1) == 1) {
				int sig = b;

				fake_log(f, "sig %d", sig);
				if (sig != SIGTERM && sig != SIGINT)
					continue;
				if (on_term == T_IGNORE)
					continue;
				if (terminating)
					continue; /* a repeat */
				terminating = true;
				if (on_term == T_DEFAULT)
					die_by(f, sig);
				if (on_term == T_EXIT)
					exit_with(f, term_arg);
				slow_at = t + term_arg;
			}
		}
		if (r > 0 && extra_fd >= 0 && (pfd[1].revents & POLLIN) &&
		    on_extra != NULL)
			on_extra(arg);
	}
}
