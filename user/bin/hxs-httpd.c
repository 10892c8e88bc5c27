/* hxs-httpd - a static HTTP/1.1 server on hxs (or, with --kernel, on kernel sockets).
 *
 * One thread, non-blocking sockets, level-triggered epoll-shaped events (user/appnet.h):
 *   main() -> serve() -> hxs_appnet_epoll_wait()
 *     listener readable -> on_accept() -> conn_new()
 *     conn readable     -> on_readable() -> process() -> handle_request() -> respond_*()
 *     conn writable     -> flush() (pread the next chunk of the file into the conn's buffer)
 *     every 100 ms      -> expire_idle() (idle and lingering connections past deadline)
 *   SIGINT/SIGTERM -> close everything -> print counters -> hxs_appnet__close()
 *
 * One response is in flight per connection; pipelined requests wait in the input buffer and
 * are answered in order (RFC 7230 6.3.2). Files are never loaded whole: each connection
 * streams through its own OBUF_CAP buffer as the socket becomes writable. Both buffers exist
 * only while needed (input while a request is read or queued, output while a response is
 * sent), so an idle connection costs its struct conn alone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/appnet.h"
#include "app/apphttp.h"
#include "app/prog.h"

#define IN_CAP      8192            /* request head limit: longer heads get 400 */
#define OBUF_CAP    (64 * 1024)     /* per-connection output buffer (header + file chunk) */
#define LINGER_NS   (2ull * 1000000000ull)
#define MAX_EVENTS  256

enum conn_state {
	CS_OPEN,        /* reading requests, answering them in order */
	CS_LINGER,      /* last response sent, write side shut: draining input until EOF */
};

struct conn {
	int fd;
	enum conn_state state;
	struct conn *prev, *next;   /* every open connection */
	uint64_t deadline_ns;       /* idle (or linger) timeout */
	uint32_t evmask;            /* events registered now */
	bool peer_eof;              /* the client half-closed: answer what is queued, then close */
	bool close_after;           /* close once the response in flight is sent */
	bool busy;                  /* a response is in flight */
	bool blocked;               /* the last send would block: wait for EPOLLOUT */
	uint64_t skip_body;         /* request body bytes still to discard */
	size_t inlen;
	char *in;                   /* IN_CAP bytes while input waits (inlen > 0), else NULL */
	char *obuf;                 /* OBUF_CAP bytes while a response is in flight, else NULL */
	size_t olen, ooff;
	int file_fd;
	uint64_t foff, fleft;
};

static const int status_codes[] = { 200, 400, 403, 404, 405, 408, 500, 501, 503, 505 };
#define NSTATUS (sizeof(status_codes) / sizeof(status_codes[0]))

static struct {
	uint64_t accepted, closed, closed_at_exit, requests, bad_requests, resets, timeouts;
	uint64_t bytes_sent, responses[NSTATUS + 1];
} stats;

static struct hxs_appnet *an;
static int epfd, lfd;
static char root[PATH_MAX];
static size_t rootlen;
static uint64_t idle_ns = 30ull * 1000000000ull;
static struct conn *conns;
static uint64_t next_scan_ns;
static uint64_t accept_resume_ns;   /* accepts paused until (0: not paused) */
static unsigned long nconns;
static volatile sig_atomic_t stopping;

/* --- connection list and deadlines ------------------------------------------------------ */
static void conn_link(struct conn *c)
{
	c->prev = NULL;
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
}

static void conn_unlink(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

/* Activity: the idle clock starts again. */
static void touch(struct conn *c)
{
	c->deadline_ns = hxs_appnet_now_ns() + idle_ns;
}

/* --- connections -------------------------------------------------------------------------- */
static void conn_close(struct conn *c, bool reset)
{
	if (c->file_fd >= 0)
		close(c->file_fd);
	hxs_appnet_epoll_ctl(an, epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (reset)
		hxs_appnet_abort(an, c->fd);
	hxs_appnet_close(an, c->fd);
	conn_unlink(c);
	free(c->in);
	free(c->obuf);
	free(c);
	nconns--;
	if (stopping)
		stats.closed_at_exit++;
	else
		stats.closed++;
}

static void set_events(struct conn *c)
{
	/* Once the peer half-closed, RDHUP stays ready (level-triggered): stop asking for it. */
	uint32_t want = c->peer_eof ? 0 : EPOLLRDHUP;
	struct hxs_event ev;

	if (c->state == CS_LINGER || (!c->peer_eof && c->inlen < IN_CAP))
		want |= EPOLLIN;
	if (c->busy && c->blocked)
		want |= EPOLLOUT;
	if (want == c->evmask)
		return;
	ev.events = want;
	ev.data = (uint64_t)(uintptr_t)c;
	if (hxs_appnet_epoll_ctl(an, epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->evmask = want;
}

static int status_index(int status)
{
	size_t i;

	for (i = 0; i < NSTATUS; i++)
		if (status_codes[i] == status)
			return (int)i;
	return NSTATUS;
}

static const char *http_date(void)
{
	static char buf[64];
	static time_t last;
	time_t now = time(NULL);
	struct tm tm;

	if (now != last) {
		gmtime_r(&now, &tm);
		strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return buf;
}

static int ensure_obuf(struct conn *c)
{
	if (!c->obuf)
		c->obuf = malloc(OBUF_CAP);
	return c->obuf ? 0 : -ENOMEM;
}

/* Starts a response: header into obuf, then (GET) as much of the file as fits behind it. */
static int respond(struct conn *c, int status, const char *ctype, uint64_t clen, bool head,
		   int file_fd, const char *body, bool keep, const char *extra)
{
	int n;

	if (ensure_obuf(c))
		return -ENOMEM;
	n = snprintf(c->obuf, OBUF_CAP,
		     "HTTP/1.1 %d %s\r\nServer: hxs-httpd\r\nDate: %s\r\nContent-Type: %s\r\n"
		     "Content-Length: %llu\r\nConnection: %s\r\n%s\r\n",
		     status, hxs_apphttp_reason(status), http_date(), ctype,
		     (unsigned long long)clen, keep ? "keep-alive" : "close", extra ? extra : "");
	c->olen = (size_t)n;
	c->ooff = 0;
	c->file_fd = -1;
	c->fleft = 0;
	c->foff = 0;
	if (!head && body) {
		memcpy(c->obuf + c->olen, body, clen);
		c->olen += clen;
	} else if (!head && file_fd >= 0) {
		c->file_fd = file_fd;
		c->fleft = clen;
		file_fd = -1;
	}
	if (file_fd >= 0)
		close(file_fd);
	c->busy = true;
	c->close_after = !keep;
	stats.responses[status_index(status)]++;
	return 0;
}

static int respond_error(struct conn *c, int status, bool head, bool keep)
{
	char body[160];
	int n = snprintf(body, sizeof(body), "<html><body><h1>%d %s</h1></body></html>\n",
			 status, hxs_apphttp_reason(status));

	return respond(c, status, "text/html; charset=utf-8", (uint64_t)n, head, -1, body, keep,
		       status == 405 ? "Allow: GET, HEAD\r\n" : NULL);
}

/* Lexical check that no ".." segment climbs above the root (before touching the disk). */
static bool path_stays_inside(const char *p)
{
	int depth = 0;
	const char *s = p, *e;
	size_t n;

	while (*s) {
		while (*s == '/')
			s++;
		e = strchrnul(s, '/');
		n = (size_t)(e - s);
		if (n == 2 && s[0] == '.' && s[1] == '.')
			depth--;
		else if (n && !(n == 1 && s[0] == '.'))
			depth++;
		if (depth < 0)
			return false;
		s = e;
	}
	return true;
}

static bool under_root(const char *real)
{
	return !strncmp(real, root, rootlen) && (real[rootlen] == '/' || real[rootlen] == '\0' ||
						 rootlen == 1);
}

static int errno_status(int e)
{
	switch (e) {
	case ENOENT: case ENOTDIR: case ENAMETOOLONG: case ELOOP:
		return 404;
	case EACCES: case EPERM:
		return 403;
	case EMFILE: case ENFILE: case ENOMEM:   /* ours, not the client's: try again later */
		return 503;
	default:
		return 500;
	}
}

/* Resolves a decoded URL path to an open regular file under the root, or an HTTP status. */
static int open_target(const char *path, int *fd_out, uint64_t *size, char *real, size_t realsz)
{
	char full[PATH_MAX + 16], tmp[PATH_MAX];
	struct stat sb;
	int fd;

	if (!path_stays_inside(path))
		return 403;
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", root, path) >= sizeof(full))
		return 404;
	if (!realpath(full, tmp))
		return errno_status(errno);
	if (!under_root(tmp))   /* a symlink pointing out of the root */
		return 403;
	if (stat(tmp, &sb) < 0)
		return errno_status(errno);
	if (S_ISDIR(sb.st_mode)) {
		if ((size_t)snprintf(full, sizeof(full), "%s/index.html", tmp) >= sizeof(full))
			return 404;
		if (!realpath(full, tmp))
			return errno_status(errno);
		if (!under_root(tmp))
			return 403;
		if (stat(tmp, &sb) < 0)
			return errno_status(errno);
	}
	if (!S_ISREG(sb.st_mode))
		return 403;
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno_status(errno);
	*fd_out = fd;
	*size = (uint64_t)sb.st_size;
	snprintf(real, realsz, "%s", tmp);
	return 200;
}

static int handle_request(struct conn *c, const struct hxs_apphttp_req *r)
{
	char path[PATH_MAX], real[PATH_MAX];
	bool head = r->method == HXS_HTTP_HEAD;
	uint64_t size = 0;
	int fd = -1, status;

	stats.requests++;
	c->skip_body = r->content_length;
	if (r->chunked) {       /* we cannot find where its body ends: answer and close */
		stats.bad_requests++;
		return respond_error(c, 501, head, false);
	}
	if (r->method == HXS_HTTP_UNKNOWN)
		return respond_error(c, 501, false, r->keep_alive);
	if (r->method == HXS_HTTP_KNOWN_OTHER)
		return respond_error(c, 405, false, r->keep_alive);
	if (hxs_apphttp_decode_path(r->target, r->target_len, path, sizeof(path)) < 0 ||
	    path[0] != '/') {
		stats.bad_requests++;
		return respond_error(c, 400, head, false);
	}
	status = open_target(path, &fd, &size, real, sizeof(real));
	if (status != 200)
		return respond_error(c, status, head, r->keep_alive);
	return respond(c, 200, hxs_apphttp_mime(real), size, head, fd, NULL, r->keep_alive, NULL);
}

static void begin_linger(struct conn *c)
{
	/* Shut our side and drain theirs, so unread input does not turn our close into an RST
	 * that could destroy the response before the client read it. */
	hxs_appnet_shutdown(an, c->fd, SHUT_WR);
	c->state = CS_LINGER;
	c->deadline_ns = hxs_appnet_now_ns() + LINGER_NS;
}

/* Sends what is queued; refills from the file. Returns -1 when the connection was closed. */
static int flush(struct conn *c)
{
	ssize_t n;

	while (c->busy) {
		if (c->ooff < c->olen) {
			n = hxs_appnet_send(an, c->fd, c->obuf + c->ooff, c->olen - c->ooff);
			if (n == -EAGAIN || n == -EWOULDBLOCK) {
				c->blocked = true;
				return 0;
			}
			if (n < 0) {
				stats.resets++;
				conn_close(c, false);
				return -1;
			}
			c->ooff += (size_t)n;
			stats.bytes_sent += (uint64_t)n;
			continue;
		}
		if (c->fleft) {
			size_t want = c->fleft < OBUF_CAP ? (size_t)c->fleft : OBUF_CAP;

			n = pread(c->file_fd, c->obuf, want, (off_t)c->foff);
			if (n <= 0) {   /* the file shrank under us: the length we promised is a lie */
				fprintf(stderr, "hxs-httpd: read error on a file being sent, aborting\n");
				conn_close(c, true);
				return -1;
			}
			c->olen = (size_t)n;
			c->ooff = 0;
			c->foff += (uint64_t)n;
			c->fleft -= (uint64_t)n;
			continue;
		}
		if (c->file_fd >= 0) {
			close(c->file_fd);
			c->file_fd = -1;
		}
		c->busy = false;
		c->blocked = false;
		free(c->obuf);
		c->obuf = NULL;
		if (c->close_after) {
			begin_linger(c);
			return 0;
		}
	}
	c->blocked = false;
	return 0;
}

/* Answers the queued requests in order, as long as no response is in flight. */
static void process(struct conn *c)
{
	struct hxs_apphttp_req r;
	int n;

	while (c->state == CS_OPEN && !c->busy) {
		if (c->skip_body) {
			size_t k = c->skip_body < c->inlen ? (size_t)c->skip_body : c->inlen;

			if (k)
				memmove(c->in, c->in + k, c->inlen - k);
			c->inlen -= k;
			c->skip_body -= k;
			if (c->skip_body)
				break;
		}
		if (!c->inlen)
			break;
		n = hxs_apphttp_parse(c->in, c->inlen, &r);
		if (n == 0 && c->inlen < IN_CAP && !c->peer_eof)
			break;
		if (n <= 0) {   /* malformed, too long, or cut short by EOF */
			stats.requests++;
			stats.bad_requests++;
			c->inlen = 0;
			if (respond_error(c, n < 0 ? r.status : 400, false, false) < 0)
				goto fail;
		} else {
			/* r.target points into c->in: answer before consuming the head */
			if (handle_request(c, &r) < 0)
				goto fail;
			memmove(c->in, c->in + n, c->inlen - (size_t)n);
			c->inlen -= (size_t)n;
		}
		if (flush(c) < 0)
			return;
	}
	if (c->state == CS_OPEN && !c->busy && c->peer_eof && !c->inlen) {
		conn_close(c, false);
		return;
	}
	if (!c->inlen) {
		free(c->in);
		c->in = NULL;
	}
	set_events(c);
	return;
fail:
	conn_close(c, true);
}

static void on_readable(struct conn *c)
{
	char drain[4096];
	ssize_t n;

	if (c->state == CS_LINGER) {
		n = hxs_appnet_recv(an, c->fd, drain, sizeof(drain));
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			if (n < 0 && n != -ECONNRESET && n != -EPIPE)
				stats.resets++;
			conn_close(c, false);
		}
		return;
	}
	if (c->inlen < IN_CAP && !c->peer_eof) {
		if (!c->in && !(c->in = malloc(IN_CAP))) {
			conn_close(c, true);
			return;
		}
		n = hxs_appnet_recv(an, c->fd, c->in + c->inlen, IN_CAP - c->inlen);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return;
		if (n < 0) {
			stats.resets++;
			conn_close(c, false);
			return;
		}
		if (n == 0)
			c->peer_eof = true;
		c->inlen += (size_t)n;
	}
	if (c->state == CS_OPEN)
		touch(c);
	process(c);
}

/* Out of descriptors or memory: the listener stays readable (level-triggered), so stop
 * watching it for a moment instead of spinning; expire_idle() may free some meanwhile. */
static void pause_accepting(int err)
{
	fprintf(stderr, "hxs-httpd: accept: %s; pausing accepts for 100 ms (%lu connections open)\n",
		strerror(-err), nconns);
	if (hxs_appnet_epoll_ctl(an, epfd, EPOLL_CTL_DEL, lfd, NULL) == 0)
		accept_resume_ns = hxs_appnet_now_ns() + 100000000ull;
}

static void resume_accepting(void)
{
	struct hxs_event ev = { .events = EPOLLIN, .data = 0 };

	if (!accept_resume_ns || hxs_appnet_now_ns() < accept_resume_ns)
		return;
	if (hxs_appnet_epoll_ctl(an, epfd, EPOLL_CTL_ADD, lfd, &ev) == 0)
		accept_resume_ns = 0;
}

static void on_accept(void)
{
	struct sockaddr_in6 peer;
	struct hxs_event ev;
	struct conn *c;
	int fd, one = 1, i;

	for (i = 0; i < 64; i++) {
		fd = hxs_appnet_accept(an, lfd, &peer, SOCK_NONBLOCK);
		if (fd == -EAGAIN || fd == -EWOULDBLOCK)
			return;
		if (fd == -EMFILE || fd == -ENFILE || fd == -ENOMEM || fd == -ENOBUFS) {
			pause_accepting(fd);
			return;
		}
		if (fd < 0) {
			if (fd != -ECONNABORTED)
				fprintf(stderr, "hxs-httpd: accept: %s\n", strerror(-fd));
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			hxs_appnet_close(an, fd);
			return;
		}
		c->fd = fd;
		c->file_fd = -1;
		hxs_appnet_setsockopt(an, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev.events = c->evmask = EPOLLIN | EPOLLRDHUP;
		ev.data = (uint64_t)(uintptr_t)c;
		stats.accepted++;
		nconns++;
		if (hxs_appnet_epoll_ctl(an, epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			conn_close(c, true);
			continue;
		}
		conn_link(c);
		touch(c);
	}
}

/* Every 100 ms: close connections idle past their deadline (a linear walk of 1,000s of
 * connections costs microseconds). */
static void expire_idle(void)
{
	uint64_t now = hxs_appnet_now_ns();
	struct conn *c, *next;

	if (now < next_scan_ns)
		return;
	next_scan_ns = now + 100000000ull;
	for (c = conns; c; c = next) {
		next = c->next;
		if (now < c->deadline_ns)
			continue;
		if (c->state == CS_OPEN)
			stats.timeouts++;
		conn_close(c, c->state == CS_OPEN && c->busy);
	}
}

static void on_event(const struct hxs_event *e)
{
	struct conn *c = (struct conn *)(uintptr_t)e->data;

	if (!c) {
		on_accept();
		return;
	}
	if (e->events & EPOLLERR) {
		stats.resets++;
		conn_close(c, false);
		return;
	}
	if (e->events & EPOLLOUT) {
		if (c->state == CS_OPEN)
			touch(c);
		if (flush(c) < 0)
			return;
		process(c);
		return;
	}
	if (e->events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
		on_readable(c);
}

static int serve(const struct hxs_prog *p)
{
	struct hxs_event evs[MAX_EVENTS];
	int n, i;

	while (!stopping) {
		n = hxs_appnet_epoll_wait(an, epfd, evs, MAX_EVENTS, 200);
		if (n == -EINTR)
			continue;
		if (hxs_prog__wait_failed(p, n))
			return n;
		for (i = 0; i < n; i++)
			on_event(&evs[i]);
		expire_idle();
		resume_accepting();
	}
	return 0;
}

static void print_stats(void)
{
	size_t i;

	printf("hxs-httpd: connections accepted %llu, closed %llu (+%llu closed at exit); "
	       "requests %llu, bad requests %llu, resets %llu, idle timeouts %llu; "
	       "bytes sent %llu\n",
	       (unsigned long long)stats.accepted, (unsigned long long)stats.closed,
	       (unsigned long long)stats.closed_at_exit, (unsigned long long)stats.requests,
	       (unsigned long long)stats.bad_requests, (unsigned long long)stats.resets,
	       (unsigned long long)stats.timeouts, (unsigned long long)stats.bytes_sent);
	printf("hxs-httpd: responses");
	for (i = 0; i < NSTATUS; i++)
		printf(" %d:%llu", status_codes[i], (unsigned long long)stats.responses[i]);
	printf(" other:%llu\n", (unsigned long long)stats.responses[NSTATUS]);
	printf("hxs-httpd: stats accepted=%llu closed=%llu closed_at_exit=%llu requests=%llu "
	       "bad_requests=%llu resets=%llu timeouts=%llu bytes_sent=%llu",
	       (unsigned long long)stats.accepted, (unsigned long long)stats.closed,
	       (unsigned long long)stats.closed_at_exit, (unsigned long long)stats.requests,
	       (unsigned long long)stats.bad_requests, (unsigned long long)stats.resets,
	       (unsigned long long)stats.timeouts, (unsigned long long)stats.bytes_sent);
	for (i = 0; i < NSTATUS; i++)
		printf(" s%d=%llu", status_codes[i], (unsigned long long)stats.responses[i]);
	printf("\n");
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: hxs-httpd -i IFACE -p PORT -r DIR [--kernel] [--busy-poll] [--idle SECONDS] [-v]\n"
		"  -i IFACE     interface hxs runs on (optional with --kernel)\n"
		"  -p PORT      TCP port (default 8080)\n"
		"  -r DIR       document root\n"
		"  --kernel     use the kernel's sockets instead of hxs\n"
		"  --busy-poll  spin instead of sleeping while waiting for events\n"
		"  --idle S     close connections idle for S seconds (default 30)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		HXS_PROG_OPT_KERNEL,
		HXS_PROG_OPT_BUSY_POLL,
		{ "idle", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct hxs_prog p = { .name = "hxs-httpd", .port = 8080 };
	struct sockaddr_in6 sin;
	struct hxs_event ev = { .events = EPOLLIN, .data = 0 };
	const char *rootarg = NULL;
	int port, opt, one = 1, err, rc = 1;

	while ((opt = getopt_long(argc, argv, "i:p:r:vh", lopts, NULL)) != -1) {
		if (hxs_prog__opt(&p, opt, optarg) > 0)     /* -i -p -v --kernel --busy-poll */
			continue;
		switch (opt) {
		case 'r': rootarg = optarg; break;
		case 'I': idle_ns = (uint64_t)(atof(optarg) * 1e9); break;
		default: usage();
		}
	}
	port = (int)p.port;     /* as atoi() reads it */
	if (!rootarg || port <= 0 || port > 65535 || (!p.kernel && !p.stack.ifname) || optind != argc)
		usage();
	if (!realpath(rootarg, root)) {
		fprintf(stderr, "hxs-httpd: document root %s: %s\n", rootarg, strerror(errno));
		return 1;
	}
	rootlen = strlen(root);
	hxs_prog__raise_nofile();
	hxs_prog__catch_stop(&stopping, HXS_PROG_NO_SIGPIPE);  /* a blocked wait returns EINTR */

	if (hxs_prog__open_appnet(&p, &an))
		return 1;
	epfd = hxs_appnet_epoll_create(an);
	if (epfd < 0) {
		err = epfd;
		fprintf(stderr, "hxs-httpd: epoll_create: %s\n", strerror(-err));
		goto close_an;
	}
	lfd = hxs_appnet_socket(an, SOCK_STREAM | SOCK_NONBLOCK);
	if (lfd < 0) {
		err = lfd;
		fprintf(stderr, "hxs-httpd: socket: %s\n", strerror(-err));
		goto close_ep;
	}
	hxs_appnet_setsockopt(an, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* :: with IPV6_V6ONLY off: IPv6 and IPv4 clients alike (RFC 3493 §3.7) */
	hxs_appnet_any(&sin, (uint16_t)port);
	if ((err = hxs_appnet_bind(an, lfd, &sin)) < 0 || (err = hxs_appnet_listen(an, lfd, 1024)) < 0 ||
	    (err = hxs_appnet_epoll_ctl(an, epfd, EPOLL_CTL_ADD, lfd, &ev)) < 0) {
		fprintf(stderr, "hxs-httpd: listen on port %d: %s\n", port, strerror(-err));
		goto close_lfd;
	}
	hxs_prog__ready(&p, NULL, "http://[::]:%d/ serving %s (%s)", port, root,
			hxs_appnet__describe(an));

	err = serve(&p);
	rc = err ? 1 : 0;
	printf("hxs-httpd: stopping (%s), closing %lu open connections\n",
	       stopping ? "signal" : "error", nconns);
	stopping = 1;
	while (conns)
		conn_close(conns, false);
	print_stats();
close_lfd:
	hxs_appnet_close(an, lfd);
close_ep:
	hxs_appnet_epoll_close(an, epfd);
close_an:
	hxs_appnet__close(an, stdout);
	return err ? 1 : rc;
}
