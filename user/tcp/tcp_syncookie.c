/* tcp_syncookie.c - SYN cookies in the TCP core (RFC 4987 §3.6), the kernel's tcp_syncookies = 1:
 * a listener whose SYN queue is full answers SYNs with a cookie SYN-ACK and keeps no state;
 * an ACK that carries a valid cookie becomes the connection. The scheme (MAC, MSS classes,
 * options in the TSval) is hxs/syncookie.h, the same code the XDP program runs, so an ACK to a
 * cookie XDP sent validates here too.
 *
 * hxs_tcp_listen_input() (tcp_listen.c) SYN, queue full -> hxs_tcp_synq_pressure(1) (on_synq)
 *     -> hxs_tcp_syncookie_syn() -> cookie_local(), hxs_sc_make(), hxs_sc_synack()
 *     -> tx.alloc/tx.send   (SyncookiesSent)
 * hxs_tcp_listen_input() ACK -> hxs_tcp_syncookie_ack() -> cookies_in_use() -> hxs_sc_check()
 *     -> hxs_sc_ts_decode()   (SyncookiesRecv; an invalid one SyncookiesFailed, and the caller
 *        sends a RST); tcp_listen.c's cookie_open() then builds the connection
 * (hxs_tcp_synq_pressure(), tcp_lifecycle.c: on when the queue fills, off at half)
 */
#include <string.h>

#include "hxs/syncookie.h"
#include "lib/siphash.h"
#include "lib/bytes.h"
#include "tcp_conn.h"


void hxs_tcp__set_cookie_secret(struct hxs_tcp *tcp, const struct hxs_cookie_secret *s)
{
	memcpy(tcp->cookie_key, s->key, sizeof(tcp->cookie_key));
	tcp->cookie_cur = s->cur & 1;
}

/* The default secret, before the embedding layer gives one: keyed by the stack's secret. */
void hxs_tcp_syncookie_init(struct hxs_tcp *tcp)
{
	memset(tcp->cookie_key, 0, sizeof(tcp->cookie_key));
	tcp->cookie_key[0][0] = hxs_siphash24(tcp->cfg.isn_secret, "tcp-cookie-lo", 13);
	tcp->cookie_key[0][1] = hxs_siphash24(tcp->cfg.isn_secret, "tcp-cookie-hi", 13);
	tcp->cookie_cur = 0;
}

static void secret_of(const struct hxs_tcp *tcp, struct hxs_cookie_secret *s)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->key, tcp->cookie_key, sizeof(s->key));
	s->cur = tcp->cookie_cur;
}

void hxs_tcp_conn__cookie_local(const struct hxs_tcp_conn *l, struct hxs_sc_local *loc)
{
	const struct hxs_tcp_cfg *cfg = &l->tcp->cfg;
	/* a listener on :: may take IPv4 too: the family's header is not known here, IPv6's
	 * larger one is assumed for a listener that may take IPv6 (never too large a segment) */
	uint32_t path = cfg->mtu - (hxs_addr_is4(l->laddr) ? 40 : 60), ws = 0;

	memset(loc, 0, sizeof(*loc));
	/* what hxs_tcp_conn_setup() gives a child of this listener */
	loc->mss = (uint16_t)(l->user_mss && l->user_mss < path ? l->user_mss : path);
	while (!cfg->no_ws && ws < 14 && (l->rcvbuf_size >> ws) > 65535)
		ws++;
	loc->ws = (uint8_t)ws;
	/* RFC 7323 §2.2: the SYN-ACK's window is never scaled */
	loc->win = (uint16_t)(l->rcvbuf_size < 65535 ? l->rcvbuf_size : 65535);
	loc->no_sack = cfg->no_sack;
	loc->no_ts = cfg->no_ts;
	loc->no_ws = cfg->no_ws;
}

/* The cookie's tuple, as the XDP program makes it from the same header: IPv4 addresses as
 * 32-bit values, IPv6 ones as their 16 bytes (hxs/syncookie.h), so a cookie either side made
 * validates at the other. */
static struct hxs_sc_tuple sc_tuple(const struct hxs_tcp_seg *s)
{
	struct hxs_sc_tuple t = { .rport = s->sport, .lport = s->dport };

	if (hxs_addr_is4(s->saddr)) {
		t.raddr = hxs_addr_get4(s->saddr);
		t.laddr = hxs_addr_get4(s->daddr);
	} else {
		t.v6 = 1;
		memcpy(t.raddr6, s->saddr.b, 16);
		memcpy(t.laddr6, s->daddr.b, 16);
	}
	return t;
}

int hxs_tcp_syncookie_syn(struct hxs_tcp_conn *l, const struct hxs_tcp_seg *s, uint64_t now)
{
	struct hxs_tcp *tcp = l->tcp;
	struct hxs_sc_tuple t = sc_tuple(s);
	struct hxs_sc_syn syn = {
		.isn = s->seq, .tsval = s->opt.tsval, .mss = s->opt.mss, .has_mss = s->opt.has_mss,
		.has_ws = s->opt.has_ws, .ws = s->opt.ws, .sack_perm = s->opt.sack_perm,
		.has_ts = s->opt.has_ts,
	};
	struct hxs_cookie_secret sec;
	struct hxs_sc_local loc;
	uint8_t hdr[40];
	void *h;

	if (tcp->cfg.no_syncookies)
		return -1;
	secret_of(tcp, &sec);
	hxs_tcp_conn__cookie_local(l, &loc);
	/* RFC 9293 §3.7.1: no MSS option means 536 */
	uint32_t cookie = hxs_sc_make(&sec, &t, s->seq, now / 1000000,
				      hxs_sc_mss_index(s->opt.has_mss && s->opt.mss ? s->opt.mss : 536));
	/* our timestamp clock for this host pair, as a SYN-ACK from the queue would carry */
	uint32_t ts_now = (uint32_t)(now / 1000) + hxs_isn_addr(&tcp->isn, s->daddr, 0, s->saddr, 0, 0);
	/* the checksum over the tuple's family's pseudo-header (test_ip6_stack verifies it) */
	uint32_t n = hxs_sc_synack(hdr, &t, &syn, &loc, cookie, ts_now);
	uint8_t *p = tcp->tx.alloc(tcp->ctx, n, &h);
	if (!p) {
		MIB_INC(tcp, TCPTxNoBufs);
		return 0;                      /* as if sent and lost: no state either way */
	}
	memcpy(p, hdr, n);
	/* the listener's TOS (IP_TOS), never ECT: a SYN-ACK is not ECN-capable (RFC 3168 §6.1.1) */
	tcp->tx.send(tcp->ctx, h, s->daddr, s->saddr, n, (uint8_t)(l->tos & ~3u), l->ttl);
	l->cookie_until = now + HXS_TCP_COOKIE_VALID_US;
	MIB_INC(tcp, TcpOutSegs);
	MIB_INC(tcp, SyncookiesSent);
	return 0;
}

/* The kernel checks cookies only on a listener that overflowed recently
 * (tcp_synq_no_recent_overflow): elsewhere an ACK without a connection is simply reset. */
static int cookies_in_use(const struct hxs_tcp_conn *l, const struct hxs_tcp_seg *s, uint64_t now)
{
	return !l->tcp->cfg.no_syncookies &&
	       (s->cookie_ok || l->synq_pressure || now < l->cookie_until);
}

int hxs_tcp_syncookie_ack(struct hxs_tcp_conn *l, const struct hxs_tcp_seg *s, uint64_t now,
			  struct hxs_sc_opts *o)
{
	struct hxs_tcp *tcp = l->tcp;
	struct hxs_sc_tuple t = sc_tuple(s);
	uint32_t cookie = s->ack - 1, isn = s->seq - 1;
	struct hxs_cookie_secret sec;
	int idx;

	if ((s->flags & HXS_TH_RST) || !cookies_in_use(l, s, now))
		return 0;
	if (s->cookie_ok) {
		idx = (int)((cookie >> HXS_SC_MSS_SHIFT) & 3);    /* XDP checked the MAC and age */
	} else {
		secret_of(tcp, &sec);
		idx = hxs_sc_check(&sec, &t, isn, cookie, now / 1000000);
	}
	if (idx < 0 || hxs_sc_ts_decode((uint32_t)idx, s->opt.has_ts, s->opt.tsecr, o) < 0) {
		MIB_INC(tcp, SyncookiesFailed);
		return -1;
	}
	MIB_INC(tcp, SyncookiesRecv);
	return 1;
}
