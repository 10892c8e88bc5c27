/* tcp_harness.c - scripted and simulated drivers for the TCP core (see tcp_harness.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bytes.h"
#include "tcp_harness.h"

uint32_t ts_build(uint8_t *buf, const struct ts_pkt *p)
{
	uint32_t olen = 0;
	if (p->rawlen) {
		memcpy(buf + 20, p->rawopt, p->rawlen);
		olen = p->rawlen;
	} else if (p->opt) {
		olen = hxs_tcp_opt__write(buf + 20, p->opt, !!(p->flags & HXS_TH_SYN));
	}
	hxs_wr16(buf, p->rport ? p->rport : TS_RPORT);
	hxs_wr16(buf + 2, p->lport ? p->lport : TS_LPORT);
	hxs_wr32(buf + 4, p->seq);
	hxs_wr32(buf + 8, p->ack);
	buf[12] = (uint8_t)(((20 + olen) / 4) << 4);
	buf[13] = p->flags;
	hxs_wr16(buf + 14, p->wnd);
	hxs_wr16(buf + 16, 0);
	hxs_wr16(buf + 18, 0);
	if (p->len)
		memcpy(buf + 20 + olen, p->data, p->len);
	hxs_wr16(buf + 16, hxs_tcp_csum(TS_REMOTE, TS_LOCAL, buf, 20 + olen + p->len));
	return 20 + olen + p->len;
}

/* --- scripted ---------------------------------------------------------------------------- */
/* A test double's limit was violated: say which (stdout, where run-tests.sh shows "#" lines
 * of a failed program, and stderr) and end the program with a failure. */
static __attribute__((noreturn, format(printf, 1, 2))) void harness_abort(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# tcp_harness: %s\n", msg);
	fflush(stdout);
	fprintf(stderr, "tcp_harness: %s\n", msg);
	abort();
}

struct ts_frame {
	uint32_t len;
	uint8_t b[];
};

static uint8_t *ts_alloc(void *ctx, uint32_t len, void **h)
{
	struct ts *t = ctx;
	struct ts_frame *f;

	/* sock/tcp_sock.c tx_alloc(): "if (len > hxs_ip_max_l4(st)) return NULL" */
	if (len > t->mtu - 20) {
		t->oversize++;
		return NULL;
	}
	if (t->fail_allocs) {
		t->fail_allocs--;
		t->nobufs++;
		return NULL;
	}
	if (t->in_tx >= t->pool) {
		t->nobufs++;
		return NULL;
	}
	f = malloc(sizeof(*f) + len);
	if (!f)
		harness_abort("out of memory");
	f->len = len;
	t->in_tx++;
	t->frames_alloc++;
	*h = f;
	return f->b;
}

static void ts_flush(void *ctx)
{
	struct ts *t = ctx;

	/* the turn's TX kick: the frames it sent complete and return to the pool */
	t->in_tx = 0;
}

static void ts_send(void *ctx, void *h, struct hxs_addr sa, struct hxs_addr da, uint32_t len,
		    uint8_t tos, uint8_t ttl)
{
	uint32_t saddr = hxs_addr_get4(sa), daddr = hxs_addr_get4(da);
	struct ts *t = ctx;
	struct ts_frame *f = h;
	t->frames_sent++;
	if (len > f->len)
		harness_abort("send of %u bytes into a frame of %u", len, f->len);
	if (t->n == TS_QCAP)
		harness_abort("%d captured segments not popped: the capture queue is full", TS_QCAP);
	struct ts_seg *s = &t->q[(t->head + t->n) % TS_QCAP];
	t->n++;
	memset(s, 0, sizeof(*s));
	const uint8_t *p = f->b;
	if (len < 20)
		harness_abort("a segment of %u bytes", len);
	s->t = t->now;
	s->tos = tos;
	s->ttl = ttl;
	s->saddr = saddr;
	s->daddr = daddr;
	s->sport = hxs_rd16(p);
	s->dport = hxs_rd16(p + 2);
	s->seq = hxs_rd32(p + 4);
	s->ack = hxs_rd32(p + 8);
	uint32_t doff = (uint32_t)(p[12] >> 4) * 4;
	s->flags = p[13];
	s->wnd = hxs_rd16(p + 14);
	s->csum_ok = hxs_tcp_csum(saddr, daddr, p, len) == 0;
	s->opt_ok = doff >= 20 && doff <= len &&
		    hxs_tcp_opt__parse(p + 20, doff - 20, &s->opt) == 0;
	if (doff > len)
		doff = len;
	if (doff >= 20 && doff - 20 <= sizeof(s->optraw))
		memcpy(s->optraw, p + 20, doff - 20);
	s->hlen = doff;
	struct hxs_tcp_conn *c = hxs_tcp_lookup(t->tcp, saddr, s->sport, daddr, s->dport);
	if (c) {
		s->conn = 1;
		s->conn_mss = c->mss;
		s->conn_peer_mss = c->peer_mss;
		s->conn_ts = c->ts_ok;
		s->conn_sack = c->sack_ok;
	}
	s->len = len - doff;
	if (s->len > sizeof(s->data))
		harness_abort("a payload of %u bytes does not fit ts_seg.data", s->len);
	memcpy(s->data, p + doff, s->len);
	free(f);
}

static void ts_event(void *ctx, struct hxs_tcp_conn *c, uint32_t mask)
{
	struct ts *t = ctx;
	(void)c;
	t->events = mask;
	t->nevents++;
}

static int ts_tuple(void *ctx, struct hxs_tcp_conn *c, int add)
{
	struct ts *t = ctx;
	(void)c;
	if (add && t->tuple_err)
		return t->tuple_err;
	t->tuples += add ? 1 : -1;
	return 0;
}

static void ts_listen(void *ctx, struct hxs_tcp_conn *l, struct hxs_addr a, uint16_t p, int add)
{
	struct ts *t = ctx;
	(void)l;
	(void)a;
	(void)p;
	t->listens += add ? 1 : -1;
}

/* The stack's IP MTU as the embedding layer knows it (the core's cfg says the same). */
static uint32_t cfg_mtu(const struct hxs_tcp_cfg *cfg)
{
	uint32_t mtu = cfg && cfg->mtu ? cfg->mtu : 1500;

	if (mtu < 576 || mtu > TS_MTU_MAX)
		harness_abort("MTU %u outside the harness's 576..%u", mtu, TS_MTU_MAX);
	return mtu;
}

struct ts *ts_new(const struct hxs_tcp_cfg *cfg)
{
	struct ts *t = calloc(1, sizeof(*t));
	static const struct hxs_tcp_tx_ops tx = { ts_alloc, ts_send, ts_flush };
	static const struct hxs_tcp_ev_ops ev = { ts_event, ts_tuple, ts_listen };
	if (!t)
		return NULL;
	t->q = calloc(TS_QCAP, sizeof(*t->q));
	t->mtu = cfg_mtu(cfg);
	t->pool = TS_POOL_FRAMES;
	if (!t->q || hxs_tcp__new(&t->tcp, cfg, &tx, &ev, t, 0) < 0) {
		free(t->q);
		free(t);
		return NULL;
	}
	return t;
}

void ts_free(struct ts *t)
{
	hxs_tcp__free(t->tcp);
	free(t->q);
	free(t);
}

void ts_run_until(struct ts *t, uint64_t until)
{
	uint64_t at = t->now, spins = 0;
	for (;;) {
		uint64_t d = hxs_tcp__next_deadline(t->tcp);
		if (d > until)
			break;
		if (d > t->now)
			t->now = d;
		if (t->now != at) {
			at = t->now;
			spins = 0;
		} else if (++spins > TS_SPIN_LIMIT) {
			harness_abort("the stack spins at %llu us: pending output never drains "
				      "(%llu allocations refused as oversize, %llu for want of a frame)",
				      (unsigned long long)t->now, (unsigned long long)t->oversize,
				      (unsigned long long)t->nobufs);
		}
		hxs_tcp__poll(t->tcp, t->now);
	}
	if (until > t->now)
		t->now = until;
	hxs_tcp__poll(t->tcp, t->now);
}

int ts_in_raw(struct ts *t, uint64_t now, const uint8_t *seg, uint32_t len)
{
	ts_run_until(t, now);
	int r = hxs_tcp__input(t->tcp, TS_REMOTE, TS_LOCAL, seg, len, 0, now);
	hxs_tcp__poll(t->tcp, now);
	return r;
}

int ts_inject(struct ts *t, uint64_t now, const struct ts_pkt *p)
{
	uint8_t buf[20 + 40 + TS_MTU_MAX];
	if (20 + (p->rawlen ? p->rawlen : 40) + p->len > sizeof(buf))
		harness_abort("a segment of %u payload bytes to inject", p->len);
	uint32_t n = ts_build(buf, p);
	return ts_in_raw(t, now, buf, n);
}

int ts_syn(struct ts *t, uint64_t now, uint32_t seq, const struct hxs_tcp_opts *o)
{
	return TS_IN(t, now, .flags = HXS_TH_SYN, .seq = seq, .wnd = 65535, .opt = o);
}

int ts_synack(struct ts *t, uint64_t now, uint32_t seq, uint32_t ack, const struct hxs_tcp_opts *o)
{
	return TS_IN(t, now, .flags = HXS_TH_SYN | HXS_TH_ACK, .seq = seq, .ack = ack, .wnd = 65535,
		     .opt = o);
}

int ts_ack(struct ts *t, uint64_t now, uint32_t seq, uint32_t ack)
{
	return TS_IN(t, now, .flags = HXS_TH_ACK, .seq = seq, .ack = ack, .wnd = 65535);
}

int ts_data(struct ts *t, uint64_t now, uint32_t seq, uint32_t ack, const void *d, uint32_t len)
{
	return TS_IN(t, now, .flags = HXS_TH_ACK, .seq = seq, .ack = ack, .wnd = 65535, .data = d,
		     .len = len);
}

int ts_push(struct ts *t, uint64_t now, uint32_t seq, uint32_t ack, const void *d, uint32_t len)
{
	return TS_IN(t, now, .flags = HXS_TH_ACK | HXS_TH_PSH, .seq = seq, .ack = ack, .wnd = 65535,
		     .data = d, .len = len);
}

int ts_fin(struct ts *t, uint64_t now, uint32_t seq, uint32_t ack)
{
	return TS_IN(t, now, .flags = HXS_TH_FIN | HXS_TH_ACK, .seq = seq, .ack = ack, .wnd = 65535);
}

int ts_rst(struct ts *t, uint64_t now, uint32_t seq)
{
	return TS_IN(t, now, .flags = HXS_TH_RST, .seq = seq);
}

int ts_pop(struct ts *t, struct ts_seg *s)
{
	if (!t->n) {
		memset(s, 0, sizeof(*s));
		return 0;
	}
	*s = t->q[t->head];
	t->head = (t->head + 1) % TS_QCAP;
	t->n--;
	return 1;
}

int ts_pending(const struct ts *t)
{
	return t->n;
}

void ts_clear(struct ts *t)
{
	t->n = 0;
}

/* --- simulator ----------------------------------------------------------------------------- */
struct sim_frame {
	uint32_t cap;
	uint8_t b[];
};

static uint8_t *sim_alloc(void *ctx, uint32_t len, void **h)
{
	struct sim_port *sp = ctx;
	struct sim_frame *f;

	/* sock/tcp_sock.c tx_alloc(): "if (len > hxs_ip_max_l4(st)) return NULL" */
	if (len > sp->mtu - 20) {
		sp->oversize++;
		return NULL;
	}
	if (sp->in_tx >= sp->pool) {
		sp->nobufs++;
		return NULL;
	}
	f = malloc(sizeof(*f) + len);
	if (!f)
		harness_abort("out of memory");
	f->cap = len;
	sp->in_tx++;
	sp->s->frames_alloc++;
	*h = f;
	return f->b;
}

static void sim_send(void *ctx, void *h, struct hxs_addr sa, struct hxs_addr da, uint32_t len,
		     uint8_t tos, uint8_t ttl)
{
	uint32_t saddr = hxs_addr_get4(sa), daddr = hxs_addr_get4(da);
	(void)tos;
	(void)ttl;
	struct sim_port *sp = ctx;
	struct sim_frame *f = h;
	(void)saddr;
	(void)daddr;
	if (len > f->cap)
		harness_abort("send of %u bytes into a frame of %u", len, f->cap);
	uint32_t doff = len >= 20 ? (uint32_t)(f->b[12] >> 4) * 4 : 0;
	struct hxs_tcp_opts o;
	if (doff >= 20 && doff < len && hxs_tcp_opt__parse(f->b + 20, doff - 20, &o) == 0 && o.nsack)
		sp->sack_data++;
	if (len > sp->max_l4)
		sp->max_l4 = len;
	sp->s->frames_sent++;
	netsim_send(sp->s->ns, sp->port, f->b, len, sp->s->now);
	free(f);
	sp->s->frames_freed++;
}

static void sim_flush(void *ctx)
{
	struct sim_port *sp = ctx;

	sp->in_tx = 0;           /* the turn's TX kick: its frames complete */
}

struct sim *sim_new(const struct netsim_cfg *nc, uint64_t seed, const struct hxs_tcp_cfg *cfg,
		    const struct hxs_tcp_cfg *cfg_b)
{
	static const struct hxs_tcp_tx_ops tx = { sim_alloc, sim_send, sim_flush };
	struct sim *s = calloc(1, sizeof(*s));
	struct netsim_cfg link = *nc;
	if (!s)
		harness_abort("out of memory");
	s->addr[0] = TS_LOCAL;
	s->addr[1] = TS_REMOTE;
	for (int i = 0; i < 2; i++) {
		struct sim_port *sp = &s->port[i];
		sp->s = s;
		sp->port = i;
		sp->mtu = cfg_mtu(i && cfg_b ? cfg_b : cfg);
		sp->pool = TS_POOL_FRAMES;
	}
	/* The path carries what the smaller end's frames hold (IP header implied). */
	uint32_t l4 = (s->port[0].mtu < s->port[1].mtu ? s->port[0].mtu : s->port[1].mtu) - 20;
	for (int d = 0; d < 2; d++)
		if (!link.dir[d].mtu)
			link.dir[d].mtu = l4;
	s->ns = netsim_new(&link, seed);
	if (!s->ns)
		harness_abort("out of memory");
	for (int i = 0; i < 2; i++) {
		struct hxs_tcp_cfg c = i && cfg_b ? *cfg_b : *cfg;
		for (int k = 0; k < 16; k++)
			c.isn_secret[k] = (uint8_t)(seed * 31 + (uint64_t)i * 7 + (uint64_t)k);
		if (hxs_tcp__new(&s->tcp[i], &c, &tx, NULL, &s->port[i], 0) < 0)
			abort();
	}
	return s;
}

void sim_free(struct sim *s)
{
	hxs_tcp__free(s->tcp[0]);
	hxs_tcp__free(s->tcp[1]);
	netsim_free(s->ns);
	free(s);
}

static void sim_rx(void *ctx, int port, const uint8_t *buf, size_t len, uint64_t now)
{
	struct sim *s = ctx;
	/* The frame arrives at `port` from the other side. */
	if (hxs_tcp__input(s->tcp[port], s->addr[!port], s->addr[port], buf, (uint32_t)len, 0, now) < 0)
		s->port[port].rejected++;
}

int sim_step(struct sim *s, uint64_t limit)
{
	uint64_t before = s->now;
	netsim_deliver(s->ns, s->now, sim_rx, s);
	hxs_tcp__poll(s->tcp[0], s->now);
	hxs_tcp__poll(s->tcp[1], s->now);
	uint64_t n = netsim_next(s->ns);
	uint64_t d0 = hxs_tcp__next_deadline(s->tcp[0]);
	uint64_t d1 = hxs_tcp__next_deadline(s->tcp[1]);
	if (d0 < n)
		n = d0;
	if (d1 < n)
		n = d1;
	if (n == UINT64_MAX)
		return 0;
	if (n < s->now)
		n = s->now;
	if (n > limit)
		n = limit;
	s->now = n;
	if (n != before) {
		s->spins = 0;
	} else if (++s->spins > TS_SPIN_LIMIT) {
		s->stalled = 1;
		return 0;
	}
	return 1;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void pattern_fill(uint64_t seed, uint64_t off, uint8_t *p, uint32_t n)
{
	uint32_t i = 0;
	while (i < n) {
		uint64_t blk = (off + i) / 8;
		uint64_t v = mix(blk ^ (seed << 40));
		uint32_t k = (uint32_t)((off + i) % 8);
		for (; k < 8 && i < n; k++, i++)
			p[i] = (uint8_t)(v >> (8 * k));
	}
}

long pattern_check(uint64_t seed, uint64_t off, const uint8_t *p, uint32_t n)
{
	uint8_t tmp[4096];
	uint32_t i = 0;
	while (i < n) {
		uint32_t k = n - i < sizeof(tmp) ? n - i : sizeof(tmp);
		pattern_fill(seed, off + i, tmp, k);
		if (memcmp(tmp, p + i, k)) {
			for (uint32_t j = 0; j < k; j++)
				if (tmp[j] != p[i + j])
					return (long)(i + j);
		}
		i += k;
	}
	return -1;
}

/* --- what the scripted tests share ------------------------------------------------------- */
struct ts *ts_open(const struct hxs_tcp_cfg *cfg)
{
	struct hxs_tcp_cfg c;

	if (cfg)
		c = *cfg;
	else
		memset(&c, 0, sizeof(c));
	return ts_new(&c);
}

struct hxs_tcp_opts ts_mss_opt(uint16_t mss)
{
	struct hxs_tcp_opts o;

	memset(&o, 0, sizeof(o));
	o.has_mss = mss != 0;
	o.mss = mss;
	return o;
}

int ts_syn_from(struct ts *t, uint64_t now, uint32_t isn, uint16_t i, uint32_t *iss)
{
	struct hxs_tcp_opts o = ts_mss_opt(1460);
	struct ts_seg s;
	int got = 0;

	TS_IN(t, now, .rport = (uint16_t)(TS_RPORT + i), .flags = HXS_TH_SYN, .seq = isn,
	      .wnd = 65535, .opt = &o);
	while (ts_pop(t, &s))
		if (s.flags == (HXS_TH_SYN | HXS_TH_ACK) && s.dport == TS_RPORT + i &&
		    s.ack == isn + 1) {
			*iss = s.seq;
			got = 1;
		}
	return got;
}

uint64_t ts_close_all(struct ts *t, struct hxs_tcp_conn **cs, int n)
{
	uint64_t a, f;

	for (int i = 0; i < n; i++) {
		if (!cs[i])
			continue;
		hxs_tcp_conn__abort(cs[i]);
		hxs_tcp_conn__close(cs[i]);
	}
	hxs_tcp__poll(t->tcp, t->now);
	ts_clear(t);
	hxs_tcp__alloc_stats(t->tcp, &a, &f);
	return a - f;
}

void ts_fill(uint8_t *p, uint32_t n, uint32_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}
