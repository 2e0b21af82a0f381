/*
 * server.c - the resident daemon: the root's lock file, the listening socket,
 * the pid file, accepting connections (peer uid checked), idle shutdown,
 * retiring for a client of another version, `bld daemon status|stop`.
 *
 * Holding <root>/.bld/bldd.lock (flock) is what makes a daemon the daemon of
 * its root: whatever socket file it finds is stale and is replaced.  The
 * kernel drops the lock when the process dies, however it dies.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bld/sock.h"
#include "engine_int.h"
#include "host.h"

#define IDLE_DEFAULT_S (3 * 3600)
#define TRIM_DELAY_MS 250

void server_log(struct daemon *d, const char *fmt, ...)
{
	char when[32];
	time_t t = time(NULL);
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	char text[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s bldd[%d]: %s\n", when, (int)getpid(), text);
	fflush(stderr);
	(void)d;
}

static void on_connectable(uv_poll_t *h, int status, int events)
{
	struct daemon *d = h->data;
	(void)events;
	if (status < 0 || d->stopping || d->retiring)
		return;
	for (;;) {
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				server_log(d, "accept: %s", strerror(errno));
			return;
		}
		int rc = sock_check_peer(fd, geteuid());
		if (rc < 0) {
			server_log(d, "refused a connection: %s",
			           rc == -EPERM ? "the peer is another user" : strerror(-rc));
			close(fd);
			continue;
		}
		rc = daemon_serve_fd(d, fd);
		if (rc < 0)
			server_log(d, "cannot serve a connection: %s", uv_strerror(rc));
	}
}

static void idle_cb(uv_timer_t *t)
{
	struct daemon *d = t->data;
	char why[64];
	snprintf(why, sizeof(why), "idle for %llu s", (unsigned long long)(d->idle_ms / 1000));
	server_shutdown(d, why);
}

/* No client for TRIM_DELAY_MS: hand the pages malloc keeps free back to the
 * kernel.  A request's transient memory (task graph, run, events, workspace
 * loads on the pool) is freed into the daemon's one arena (M_ARENA_MAX 1,
 * main.c), which glibc does not shrink below its top by itself: without this
 * the resident size stays at the peak of the largest request.  Off the
 * request path: the next connection stops the timer. */
static void trim_cb(uv_timer_t *t)
{
	(void)t;
	malloc_trim(0);
}

static uint64_t idle_from_env(void)
{
	const char *v = getenv("BLD_DAEMON_IDLE");
	if (v && *v) {
		char *end;
		double s = strtod(v, &end);
		if (end != v && !*end && s > 0)
			return (uint64_t)(s * 1000);
	}
	return (uint64_t)IDLE_DEFAULT_S * 1000;
}

int server_start(struct daemon *d, const char *root)
{
	d->resident = true;
	d->root = xstrdup(root);
	d->started_ms = now_ms();
	const char *fake = getenv("BLD_FAKE_VERSION");
	d->version = fake && *fake ? fake : BLD_VERSION;
	char *state = path_join(root, ".bld");
	int rc = mkdir_p(state, 0777);
	if (rc < 0) {
		fprintf(stderr, "bldd: cannot create %s: %s\n", state, strerror(-rc));
		free(state);
		return rc;
	}
	char *lock = path_join(state, "bldd.lock");
	d->pid_path = path_join(state, "bldd.pid");
	free(state);
	d->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0) {
		rc = -errno;
		fprintf(stderr, "bldd: cannot open %s: %s\n", lock, strerror(errno));
		free(lock);
		return rc;
	}
	while (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		rc = errno == EWOULDBLOCK ? 1 : -errno;
		if (rc < 0)
			fprintf(stderr, "bldd: cannot lock %s: %s\n", lock, strerror(errno));
		close(d->lock_fd);
		d->lock_fd = -1;
		free(lock);
		return rc;
	}
	free(lock);
	bool fallback = false;
	rc = sock_path(root, &d->sock, &fallback);
	if (rc < 0) {
		fprintf(stderr, "bldd: no socket path for %s: %s\n", root, strerror(-rc));
		return rc;
	}
	d->listen_fd = sock_listen(d->sock);
	if (d->listen_fd < 0) {
		rc = d->listen_fd;
		fprintf(stderr, "bldd: cannot listen on %s: %s\n", d->sock, strerror(-rc));
		return rc;
	}
	uv_poll_init(&d->loop, &d->listener, d->listen_fd);
	d->listener.data = d;
	d->listening = true;
	uv_poll_start(&d->listener, UV_READABLE, on_connectable);
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	rc = file_write_atomic(d->pid_path, pid, (size_t)n, 0644);
	if (rc < 0)
		server_log(d, "cannot write %s: %s", d->pid_path, strerror(-rc));
	d->idle_ms = idle_from_env();
	uv_timer_init(&d->loop, &d->idle);
	uv_timer_init(&d->loop, &d->trim);
	d->idle.data = d;
	d->idle_open = true;
	server_conns_changed(d);
	host_new(d, root, true); /* watches the tree and loads it before the first request */
	server_log(d, "started: version %s, workspace %s, socket %s%s, idle shutdown after %llu s",
	           d->version, root, d->sock, fallback ? " (fallback folder)" : "",
	           (unsigned long long)(d->idle_ms / 1000));
	return 0;
}

static void stop_listening(struct daemon *d)
{
	if (!d->listening)
		return;
	d->listening = false;
	uv_poll_stop(&d->listener);
	uv_close((uv_handle_t *)&d->listener, NULL);
	close(d->listen_fd);
	d->listen_fd = -1;
}

static void close_idle(struct daemon *d)
{
	if (!d->idle_open)
		return;
	d->idle_open = false;
	uv_timer_stop(&d->idle);
	uv_close((uv_handle_t *)&d->idle, NULL);
	uv_timer_stop(&d->trim);
	uv_close((uv_handle_t *)&d->trim, NULL);
}

void server_conns_changed(struct daemon *d)
{
	if (!d->resident || !d->idle_open)
		return;
	if (d->stopping || d->retiring) {
		if (!d->nconns) {
			close_idle(d);
			daemon__close_hosts(d);
		}
		return;
	}
	if (d->nconns) {
		uv_timer_stop(&d->idle);
		uv_timer_stop(&d->trim);
	} else {
		uv_timer_start(&d->idle, idle_cb, d->idle_ms, 0);
		uv_timer_start(&d->trim, trim_cb, TRIM_DELAY_MS, 0);
	}
}

/* The socket and pid file go while the lock is still held (then they are ours). */
static void remove_files(struct daemon *d)
{
	if (d->lock_fd < 0)
		return;
	if (d->sock)
		unlink(d->sock);
	if (d->pid_path)
		unlink(d->pid_path);
}

void server_shutdown(struct daemon *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = true;
	server_log(d, "shutting down: %s", why);
	stop_listening(d);
	remove_files(d);
	close_idle(d);
	daemon__close_hosts(d);
	daemon__cancel_all(d);
}

void server_retire(struct daemon *d)
{
	if (d->retiring || d->stopping)
		return;
	d->retiring = true;
	server_log(d, "a client of another version connected: retiring once running work is done");
	stop_listening(d);
	if (d->lock_fd >= 0) {
		close(d->lock_fd); /* the new daemon takes the lock and replaces the socket */
		d->lock_fd = -1;
	}
	server_conns_changed(d);
}

void server_release(struct daemon *d)
{
	if (!d->resident)
		return;
	remove_files(d);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	d->lock_fd = -1;
	if (d->sock)
		server_log(d, "exited after %llu requests", (unsigned long long)d->served);
	free(d->root);
	free(d->sock);
	free(d->pid_path);
}

/* The host of the daemon's own root (made at start; the list's last). */
static const struct host *daemon_host(const struct daemon *d)
{
	const struct host *h = d->hosts;
	while (h->next)
		h = h->next;
	return h;
}

/* Resident memory in KiB from /proc/self/status, or 0. */
static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return 0;
	char line[256];
	long kib = 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6)) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}

/* glibc's heap: arenas (one: main.c sets M_ARENA_MAX), bytes in use and held. */
struct heap_stats {
	size_t arenas, in_use, held;
};

static void heap_stats(struct heap_stats *ret)
{
	struct mallinfo2 mi = mallinfo2(); /* summed over every arena */
	ret->in_use = mi.uordblks + mi.hblkhd;
	ret->held = mi.arena + mi.hblkhd;
	ret->arenas = 0;
	char *xml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&xml, &len);
	if (f && malloc_info(0, f) == 0 && fflush(f) == 0)
		for (const char *p = xml; (p = strstr(p, "<heap nr=")); p++)
			ret->arenas++;
	if (f)
		fclose(f);
	free(xml);
}

int cmd_daemon(struct request *r)
{
	struct daemon *d = r->d;
	const char *sub = request_arg_str(r, "sub");
	if (!d->resident) {
		request_message(r, "error", "bld daemon %s: no resident daemon serves this request",
		                sub ? sub : "");
		return 2;
	}
	if (sub && !strcmp(sub, "stop")) {
		d->stop_after = true;
		return 0;
	}
	if (sub && !strcmp(sub, "start")) {
		char line[128];
		int n = snprintf(line, sizeof(line), "bld daemon running (pid %d)\n", (int)getpid());
		request_text(r, line, (size_t)n);
		return 0;
	}
	if (!sub || strcmp(sub, "status")) {
		request_message(r, "error", "unknown daemon command \"%s\"", sub ? sub : "");
		return 2;
	}
	uint64_t up = (now_ms() - d->started_ms) / 1000;
	long kib = rss_kib();
	struct heap_stats heap;
	heap_stats(&heap);
	if (request_arg_bool(r, "json")) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "pid", (double)getpid());
		cJSON_AddStringToObject(o, "version", d->version);
		cJSON_AddNumberToObject(o, "proto", PROTO_VERSION);
		cJSON_AddStringToObject(o, "workspace", d->root);
		cJSON_AddStringToObject(o, "socket", d->sock);
		cJSON_AddNumberToObject(o, "uptimeSeconds", (double)up);
		cJSON_AddNumberToObject(o, "rssKiB", (double)kib);
		cJSON_AddNumberToObject(o, "heapInUseKiB", (double)(heap.in_use >> 10));
		cJSON_AddNumberToObject(o, "heapHeldKiB", (double)(heap.held >> 10));
		cJSON_AddNumberToObject(o, "heapArenas", (double)heap.arenas);
		cJSON_AddNumberToObject(o, "requestsServed", (double)d->served);
		if (d->hosts)
			host_status(daemon_host(d), NULL, o);
		cJSON_AddNumberToObject(o, "connections", d->nconns);
		cJSON_AddNumberToObject(o, "idleShutdownSeconds", (double)(d->idle_ms / 1000));
		char *text = cJSON_Print(o);
		cJSON_Delete(o);
		request_text(r, text, strlen(text));
		request_text(r, "\n", 1);
		free(text);
		return 0;
	}
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	sbuf_addf(&sb, "pid:        %d\n", (int)getpid());
	sbuf_addf(&sb, "version:    %s (protocol %d)\n", d->version, PROTO_VERSION);
	sbuf_addf(&sb, "workspace:  %s\n", d->root);
	sbuf_addf(&sb, "socket:     %s\n", d->sock);
	sbuf_addf(&sb, "uptime:     %llus\n", (unsigned long long)up);
	sbuf_addf(&sb,
	          "memory:     %.1f MiB resident; heap %.1f MiB in use, %.1f MiB held, "
	          "%zu arena%s\n",
	          (double)kib / 1024.0, (double)heap.in_use / 1048576.0,
	          (double)heap.held / 1048576.0, heap.arenas, heap.arenas == 1 ? "" : "s");
	if (d->hosts)
		host_status(daemon_host(d), &sb, NULL);
	sbuf_addf(&sb, "requests:   %llu served, %d connection%s open\n",
	          (unsigned long long)d->served, d->nconns, d->nconns == 1 ? "" : "s");
	sbuf_addf(&sb, "idle:       shuts down after %llus without a connection\n",
	          (unsigned long long)(d->idle_ms / 1000));
	request_text(r, sb.buf, sb.len);
	sbuf_release(&sb);
	return 0;
}
