/* test_xdp_fastpath.c - the XDP program's ACK fast path, RST filter, doorbell and metadata on
 * hand-built frames (bpf_prog_test_run_opts, no interface). Every accept and decline rule of
 * hxs/fastpath.h as the program applies it: exact verdict, exact delta of every counter, the
 * metadata in front of a redirected frame, and the slot's contents after (the hxs_slots map
 * mapped into this process, as the stack maps it). Then a concurrency run: test runs on one
 * thread against a stack-like thread that raises SND.MAX and advances SND.UNA by
 * compare-and-swap; SND.UNA never moves back or past SND.MAX, and the counts add up.
 *
 * main() -> setup (load via hxs_xdp__open(NULL), AF_XDP socket into hxs_xsks[0], slots
 *           mmap()ed, the doorbell ring opened) -> case groups -> stress()
 *        each case: slot_base() + edits -> tcp_frame() -> expect() -> run() -> deltas, meta
 * Checksums are left zero: the program never looks at them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "check.h"
#include "xdp_test.h"
#include "hxs/fastpath.h"
#include "hxs/xdp.h"

static const char *const stat_names[] = HXS_XDP_STAT_NAMES;
static struct hxs_xdp *X;
static struct hxs_slot *SLOTS;          /* the hxs_slots map, mapped */
static struct hxs_slot_hdr *HDR;        /* its slot 0 */
static struct ring_buffer *RING;
static uint32_t rung[16];               /* doorbell records read */
static int nrung;
static uint8_t HOST4[16], PEER4[16], HOST6[16], PEER6[16];

enum { SLOT = 5, GEN = 7, LPORT = 40000, RPORT = 443, UDP_PORT = 5353 };
enum { UNA = 1000, SNDMAX = 5000, RCVNXT = 9000, RCVWND = 65535, TSRECENT = 100, WND0 = 100,
       N0 = 3 };
#define F_ALL (HXS_SLOT_F_FAST | HXS_SLOT_F_TS | HXS_SLOT_F_RST)

/* TCP flag bytes */
enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20, ECE = 0x40,
       CWR = 0x80 };

/* --- frames ----------------------------------------------------------------------------- */
struct seg {
	int v6, vlan, ipopt;        /* IPv6; one 802.1Q tag; IPv4 with 4 bytes of options */
	uint16_t sport, dport;
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t wnd;
	uint8_t opt[40];
	int optlen;                 /* a multiple of 4 */
	int payload;
	int udp;                    /* a UDP datagram instead (ports only) */
};

/* NOP NOP TS(tsval, tsecr): the 12 bytes Linux and hxs send */
static void opt_ts(struct seg *s, uint32_t tsval, uint32_t tsecr)
{
	uint8_t *o = s->opt + s->optlen;

	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	put32(o + 4, tsval);
	put32(o + 8, tsecr);
	s->optlen += 12;
}

static struct seg ack_seg(uint32_t ack, uint32_t tsval)
{
	struct seg s = { .sport = RPORT, .dport = LPORT, .flags = ACK, .seq = RCVNXT, .ack = ack,
			 .wnd = 512 };

	opt_ts(&s, tsval, 77);
	return s;
}

/* Ethernet [+ tag] + IPv4/IPv6 + TCP (+ options + payload) or UDP; returns the length. */
static size_t build(uint8_t *f, const struct seg *s)
{
	static const uint8_t h[6] = { 2, 0, 0, 0, 0, 2 }, k[6] = { 2, 0, 0, 0, 0, 1 };
	size_t off = 12, l4len = s->udp ? 8 + 4 : 20 + (size_t)s->optlen + (size_t)s->payload;
	uint8_t *l4;

	memset(f, 0, 256);
	memcpy(f, h, 6);
	memcpy(f + 6, k, 6);
	if (s->vlan) {
		put16(f + 12, ETH_P_8021Q);
		put16(f + 14, 100);
		off = 16;
	}
	put16(f + off, s->v6 ? ETH_P_IPV6 : ETH_P_IP);
	off += 2;
	if (s->v6) {
		f[off] = 0x60;
		put16(f + off + 4, (uint16_t)l4len);
		f[off + 6] = s->udp ? IPPROTO_UDP : IPPROTO_TCP;
		f[off + 7] = 64;
		memcpy(f + off + 8, PEER6, 16);
		memcpy(f + off + 24, HOST6, 16);
		off += 40;
	} else {
		size_t hl = s->ipopt ? 24 : 20;

		f[off] = (uint8_t)(0x40 | hl / 4);
		put16(f + off + 2, (uint16_t)(hl + l4len));
		f[off + 8] = 64;
		f[off + 9] = s->udp ? IPPROTO_UDP : IPPROTO_TCP;
		memcpy(f + off + 12, PEER4 + 12, 4);
		memcpy(f + off + 16, HOST4 + 12, 4);
		if (s->ipopt)
			f[off + 20] = 1;        /* NOP NOP NOP EOL */
		off += hl;
	}
	l4 = f + off;
	put16(l4, s->sport);
	put16(l4 + 2, s->dport);
	if (s->udp) {
		put16(l4 + 4, 12);
		return off + 12;
	}
	put32(l4 + 4, s->seq);
	put32(l4 + 8, s->ack);
	l4[12] = (uint8_t)((5 + s->optlen / 4) << 4);
	l4[13] = s->flags;
	put16(l4 + 14, s->wnd);
	memcpy(l4 + 20, s->opt, (size_t)s->optlen);
	for (int i = 0; i < s->payload; i++)
		l4[20 + s->optlen + i] = (uint8_t)i;
	return off + l4len;
}

/* --- slots ------------------------------------------------------------------------------ */
static void conn_set(const uint8_t *l, const uint8_t *r, uint8_t proto, uint32_t slot, uint32_t gen)
{
	struct hxs_conn_key k = { .lport = htons(LPORT), .rport = htons(RPORT), .proto = proto };
	struct hxs_conn_val v = { .slot = slot, .gen = gen };

	memcpy(k.laddr, l, 16);
	memcpy(k.raddr, r, 16);
	CHECK_EQ(bpf_map_update_elem(hxs_xdp__map_fd(X, HXS_MAP_CONNS), &k, &v, BPF_ANY), 0);
}

/* The slot of the cases: ESTABLISHED, fast path on, timestamps, RST filter. */
static void slot_base(uint32_t flags)
{
	struct hxs_slot *s = &SLOTS[SLOT];

	memset(s, 0, sizeof(*s));
	s->gen = GEN;
	s->flags = flags;
	s->snd_max = SNDMAX;
	s->rcv_nxt = RCVNXT;
	s->rcv_adv = RCVNXT + RCVWND;
	s->ts_recent = TSRECENT;
	s->ack = HXS_SLOT_ACK(UNA, WND0, N0);
	s->tsval = 11;
	s->tsecr = 22;
	memset(HDR, 0, sizeof(*HDR));
	HDR->magic = HXS_SLOT_MAGIC;
}

/* --- running ---------------------------------------------------------------------------- */
struct out {
	int verdict;
	__u64 d[HXS_XDP_STAT_MAX];
	int metalen;
	struct hxs_xdp_meta meta;
};

static int run(const void *pkt, size_t len, struct out *o)
{
	__u64 a[HXS_XDP_STAT_MAX], b[HXS_XDP_STAT_MAX];
	static uint8_t buf[2048];
	struct xdp_md ci = { .data = 0, .data_end = (__u32)len }, co = {};
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = (__u32)len,
		    .data_out = buf, .data_size_out = sizeof(buf), .ctx_in = &ci,
		    .ctx_size_in = sizeof(ci), .ctx_out = &co, .ctx_size_out = sizeof(co),
		    .repeat = 1);
	int err;

	memset(o, 0, sizeof(*o));
	if (hxs_xdp__stats(X, a))
		return -1;
	err = bpf_prog_test_run_opts(hxs_xdp__prog_fd(X), &t);
	if (err)
		return err;
	if (hxs_xdp__stats(X, b))
		return -1;
	for (int i = 0; i < HXS_XDP_STAT_MAX; i++)
		o->d[i] = b[i] - a[i];
	o->verdict = (int)t.retval;
	/* test_run hands back the frame from data_meta on, and the offsets in ctx_out */
	o->metalen = (int)(co.data - co.data_meta);
	if (o->metalen == (int)sizeof(o->meta))
		memcpy(&o->meta, buf + co.data_meta, sizeof(o->meta));
	return 0;
}

/* One case: verdict, the exact counter deltas (InReceives +1 implied, the rest listed, -1
 * ends the list), and for a redirect the metadata: reason (-1: not checked), slot, gen. */
static int expect_v(const char *name, const struct seg *s, int verdict, int reason, va_list ap)
{
	__u64 want[HXS_XDP_STAT_MAX] = { [HXS_XDP_IN_RECEIVES] = 1 };
	uint8_t f[256];
	struct out o;
	int st, ok = 1;

	while ((st = va_arg(ap, int)) >= 0)
		want[st]++;
	t_case(name);
	if (!CHECK_EQ(run(f, build(f, s), &o), 0))
		return 0;
	ok &= CHECK_EQ(o.verdict, verdict);
	for (int i = 0; i < HXS_XDP_STAT_MAX; i++)
		if (!CHECK(o.d[i] == want[i], "%s moved by %llu, expected %llu", stat_names[i],
			   (unsigned long long)o.d[i], (unsigned long long)want[i]))
			ok = 0;
	if (verdict == XDP_REDIRECT) {
		ok &= CHECK_EQ(o.metalen, sizeof(struct hxs_xdp_meta));
		ok &= CHECK_EQ(o.meta.magic, HXS_META_MAGIC);
		if (reason >= 0)
			ok &= CHECK_EQ(o.meta.reason, reason);
	} else {
		ok &= CHECK_EQ(o.metalen, 0);
	}
	return ok;
}

static int expect(const char *name, const struct seg *s, int verdict, int reason, ...)
{
	va_list ap;
	int ok;

	va_start(ap, reason);
	ok = expect_v(name, s, verdict, reason, ap);
	va_end(ap);
	return ok;
}

/* The last run's metadata, for the cases that look at its other fields. */
static struct hxs_xdp_meta meta_of(const struct seg *s)
{
	uint8_t f[256];
	struct out o;

	run(f, build(f, s), &o);
	return o.meta;
}

/* the slot unchanged since slot_base() (flags as given) */
static int slot_untouched(uint32_t flags)
{
	const struct hxs_slot *s = &SLOTS[SLOT];

	return CHECK_EQ(s->ack, HXS_SLOT_ACK(UNA, WND0, N0)) && CHECK_EQ(s->tsval, 11) &&
	       CHECK_EQ(s->tsecr, 22) && CHECK_EQ(s->nacks_total, 0) && CHECK_EQ(s->flags, flags) &&
	       CHECK_EQ(s->snd_max, SNDMAX) && CHECK_EQ(s->rcv_nxt, RCVNXT) && CHECK_EQ(s->gen, GEN);
}

/* A decline of an ACK of an F_FAST slot: redirected, TcpSteered + AckDeclined, slot as it was. */
static void declined(const char *name, const struct seg *s, int reason)
{
	expect(name, s, XDP_REDIRECT, reason, HXS_XDP_TCP_STEERED, HXS_XDP_ACK_DECLINED, -1);
	slot_untouched(SLOTS[SLOT].flags);
}

/* Taken: consumed (XDP_DROP counted AckFastPath only); the ack word moved to (ack, wnd, n+1). */
static void taken(const char *name, const struct seg *s, uint32_t tsval, uint32_t tsecr)
{
	const struct hxs_slot *sl = &SLOTS[SLOT];

	expect(name, s, XDP_DROP, -1, HXS_XDP_ACK_FAST_PATH, -1);
	CHECK_EQ(sl->ack, HXS_SLOT_ACK(s->ack, s->wnd, N0 + 1));
	CHECK_EQ(sl->tsval, tsval);
	CHECK_EQ(sl->tsecr, tsecr);
	CHECK_EQ(sl->nacks_total, 1);
	CHECK_EQ(sl->snd_max, SNDMAX);
	CHECK_EQ(sl->rcv_nxt, RCVNXT);
	CHECK_EQ(sl->gen, GEN);
}

static int ring_cb(void *ctx, void *data, size_t len)
{
	(void)ctx;
	if (len == sizeof(uint32_t) && nrung < 16)
		memcpy(&rung[nrung++], data, sizeof(uint32_t));
	return 0;
}

/* --- the rules ------------------------------------------------------------------------- */
static void cases_accept(void)
{
	struct seg s;

	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	taken("pure ACK, SEG.SEQ = RCV.NXT, SND.UNA < SEG.ACK <= SND.MAX, timestamps: consumed", &s,
	      150, 77);

	slot_base(F_ALL);
	s = ack_seg(SNDMAX, TSRECENT);
	s.flags |= PSH;
	taken("SEG.ACK = SND.MAX, TSval = TS.Recent, PSH set: consumed", &s, TSRECENT, 77);

	slot_base(HXS_SLOT_F_FAST | HXS_SLOT_F_RST);
	s = ack_seg(UNA + 1, 0);
	s.optlen = 0;
	taken("no timestamps negotiated, none carried, SEG.ACK = SND.UNA + 1: consumed (TS fields "
	      "untouched)", &s, 11, 22);

	slot_base(F_ALL);
	s = ack_seg(3000, 200);
	memmove(s.opt, s.opt + 2, 10);  /* TS first, then EOL and a zero byte of padding */
	s.opt[10] = 0;
	s.opt[11] = 0;
	taken("timestamps then End of Option List: consumed", &s, 200, 77);

	slot_base(F_ALL);
	s = ack_seg(3000, 200);
	memset(s.opt + 12, 1, 8);       /* 8 more bytes: NOPs */
	s.optlen = 20;
	taken("timestamps among eight more NOPs: consumed", &s, 200, 77);

	slot_base(F_ALL);
	s = ack_seg(4000, 101);
	s.v6 = 1;
	taken("IPv6 pure ACK: consumed", &s, 101, 77);

	slot_base(F_ALL);
	s = ack_seg(4000, 101);
	s.vlan = 1;
	expect("802.1Q-tagged pure ACK: consumed", &s, XDP_DROP, -1, HXS_XDP_ACK_FAST_PATH,
	       HXS_XDP_VLAN, -1);
	CHECK_EQ(SLOTS[SLOT].ack, HXS_SLOT_ACK(4000, 512, N0 + 1));

	slot_base(F_ALL);
	SLOTS[SLOT].ack = HXS_SLOT_ACK(0xfffffff0u, WND0, 0xffff);
	SLOTS[SLOT].snd_max = 0x100;
	s = ack_seg(0x10, 150);
	expect("SEG.ACK across the sequence wrap, ACK count wraps at 16 bits: consumed", &s, XDP_DROP,
	       -1, HXS_XDP_ACK_FAST_PATH, -1);
	CHECK_EQ(SLOTS[SLOT].ack, HXS_SLOT_ACK(0x10, 512, 0));
	CHECK_EQ(SLOTS[SLOT].nacks_total, 1);

	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	expect("first ACK: consumed", &s, XDP_DROP, -1, HXS_XDP_ACK_FAST_PATH, -1);
	s = ack_seg(2500, 151);
	expect("second ACK: consumed, ACK count 2 on", &s, XDP_DROP, -1, HXS_XDP_ACK_FAST_PATH, -1);
	CHECK_EQ(SLOTS[SLOT].ack, HXS_SLOT_ACK(2500, 512, N0 + 2));
	CHECK_EQ(SLOTS[SLOT].nacks_total, 2);
	s = ack_seg(2500, 152);
	expect("the same SEG.ACK again: a duplicate for the stack", &s, XDP_REDIRECT, HXS_FP_OLD_ACK,
	       HXS_XDP_TCP_STEERED, HXS_XDP_ACK_DECLINED, -1);
	CHECK_EQ(SLOTS[SLOT].tsval, 151);
}

static void cases_decline(void)
{
	static const struct { uint8_t f; const char *name; } impure[] = {
		{ ACK | FIN, "FIN" }, { ACK | SYN, "SYN" }, { ACK | URG, "URG" },
		{ ACK | ECE, "ECE" }, { ACK | CWR, "CWR" },
	};
	static char names[5][64];       /* a case's name lives until the next case starts */
	struct seg s;

	for (size_t i = 0; i < sizeof(impure) / sizeof(impure[0]); i++) {
		slot_base(F_ALL);
		s = ack_seg(2000, 150);
		s.flags = impure[i].f;
		snprintf(names[i], sizeof(names[i]), "ACK with %s: declined, not pure", impure[i].name);
		declined(names[i], &s, HXS_FP_NOT_PURE);
	}
	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	s.payload = 1;
	declined("one byte of data: declined, not pure", &s, HXS_FP_NOT_PURE);
	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	s.flags = PSH;
	expect("no ACK bit: steered, not pure, not an ACK (AckDeclined unmoved)", &s, XDP_REDIRECT,
	       HXS_FP_NOT_PURE, HXS_XDP_TCP_STEERED, -1);
	slot_untouched(F_ALL);

	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	s.optlen = 0;
	declined("timestamps negotiated, none carried (RFC 7323 3.2): declined, options", &s,
		 HXS_FP_OPTIONS);
	slot_base(HXS_SLOT_F_FAST | HXS_SLOT_F_RST);
	s = ack_seg(2000, 150);
	declined("timestamps carried, not negotiated: declined, options", &s, HXS_FP_OPTIONS);
	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	memcpy(s.opt + 12, "\x01\x01\x05\x0a\0\0\x0b\xb8\0\0\x0f\xa0", 12);  /* NOP NOP SACK 1 block */
	s.optlen = 24;
	declined("a SACK block: declined, options (the scoreboard is the stack's)", &s, HXS_FP_OPTIONS);
	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	memcpy(s.opt + 12, "\x02\x04\x05\xb4", 4);         /* MSS */
	s.optlen = 16;
	declined("an MSS option off a SYN: declined, options", &s, HXS_FP_OPTIONS);
	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	memcpy(s.opt + 12, "\xfd\x04\x12\x34", 4);         /* experimental kind 253 */
	s.optlen = 16;
	declined("an unknown option kind: declined, options", &s, HXS_FP_OPTIONS);
	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	memcpy(s.opt + 12, "\x01\x01\x01\x13", 4);         /* kind 19 as the last byte */
	s.optlen = 16;
	declined("an option whose length octet is past the header: declined, options", &s,
		 HXS_FP_OPTIONS);
	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	memcpy(s.opt + 12, "\x01\x01\xfd\x01", 4);         /* length 1 */
	s.optlen = 16;
	declined("an option of length 1 (malformed): declined, options", &s, HXS_FP_OPTIONS);
	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	memcpy(s.opt + 12, "\x01\x01\xfd\x08", 4);         /* claims 8, 2 left */
	s.optlen = 16;
	declined("an option running past the header: declined, options", &s, HXS_FP_OPTIONS);
	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	s.opt[3] = 8;                                       /* TS of length 8, then 2 stray bytes */
	declined("a timestamps option of length 8: declined, options", &s, HXS_FP_OPTIONS);
	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	opt_ts(&s, 150, 77);
	declined("two timestamps options: declined, options", &s, HXS_FP_OPTIONS);

	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	s.seq = RCVNXT + 1;
	declined("SEG.SEQ = RCV.NXT + 1: declined, sequence", &s, HXS_FP_SEQ);
	slot_base(F_ALL);
	s = ack_seg(2000, 150);
	s.seq = RCVNXT - 1;
	declined("SEG.SEQ = RCV.NXT - 1 (a keepalive): declined, sequence", &s, HXS_FP_SEQ);
	slot_base(F_ALL);
	s = ack_seg(2000, TSRECENT - 1);
	declined("TSval = TS.Recent - 1 (RFC 7323 5.3): declined, PAWS", &s, HXS_FP_PAWS);
	slot_base(F_ALL);
	s = ack_seg(2000, TSRECENT + 0x80000001u);
	declined("TSval 2^31 + 1 ahead of TS.Recent (older, mod 2^32): declined, PAWS", &s,
		 HXS_FP_PAWS);
	slot_base(F_ALL);
	s = ack_seg(UNA, 150);
	declined("SEG.ACK = SND.UNA (duplicate): declined, old ACK", &s, HXS_FP_OLD_ACK);
	slot_base(F_ALL);
	s = ack_seg(UNA - 1, 150);
	declined("SEG.ACK = SND.UNA - 1: declined, old ACK", &s, HXS_FP_OLD_ACK);
	slot_base(F_ALL);
	s = ack_seg(SNDMAX + 1, 150);
	declined("SEG.ACK = SND.MAX + 1 (acknowledges nothing sent): declined, future", &s,
		 HXS_FP_ACK_FUTURE);

	slot_base(HXS_SLOT_F_TS | HXS_SLOT_F_RST);
	s = ack_seg(2000, 150);
	expect("slot without F_FAST: steered, reason off, AckDeclined unmoved", &s, XDP_REDIRECT,
	       HXS_FP_OFF, HXS_XDP_TCP_STEERED, -1);
	slot_untouched(HXS_SLOT_F_TS | HXS_SLOT_F_RST);
	slot_base(F_ALL);
	HDR->fast_off = 1;
	s = ack_seg(2000, 150);
	declined("stack-wide fast_off: declined, off", &s, HXS_FP_OFF);
	s.flags = RST;
	s.seq = RCVNXT - 10;
	expect("stack-wide fast_off: an out-of-window RST goes to the stack too", &s, XDP_REDIRECT,
	       HXS_FP_OFF, HXS_XDP_TCP_STEERED, -1);

	slot_base(F_ALL);
	SLOTS[SLOT].gen = GEN + 1;
	s = ack_seg(2000, 150);
	expect("slot gen moved on (reused slot): steered, no slot, nothing written", &s, XDP_REDIRECT,
	       HXS_FP_NO_SLOT, HXS_XDP_TCP_STEERED, -1);
	CHECK_EQ(SLOTS[SLOT].ack, HXS_SLOT_ACK(UNA, WND0, N0));
	CHECK_EQ(meta_of(&s).gen, GEN);
	slot_base(F_ALL);
	conn_set(HOST4, PEER4, IPPROTO_TCP, SLOT, 0);
	expect("conn entry gen 0 (no fast path): steered, no slot", &s, XDP_REDIRECT, HXS_FP_NO_SLOT,
	       HXS_XDP_TCP_STEERED, -1);
	slot_untouched(F_ALL);
	conn_set(HOST4, PEER4, IPPROTO_TCP, HXS_SLOT_NONE, GEN);
	expect("conn entry slot 0 (the header is no connection): steered, no slot", &s, XDP_REDIRECT,
	       HXS_FP_NO_SLOT, HXS_XDP_TCP_STEERED, -1);
	conn_set(HOST4, PEER4, IPPROTO_TCP, HXS_MAX_SLOTS, GEN);
	expect("conn entry slot past the array: steered, no slot", &s, XDP_REDIRECT, HXS_FP_NO_SLOT,
	       HXS_XDP_TCP_STEERED, -1);
	conn_set(HOST4, PEER4, IPPROTO_TCP, SLOT, GEN);
}

static void cases_rst(void)
{
	struct seg s = { .sport = RPORT, .dport = LPORT, .flags = RST };

	slot_base(F_ALL);
	s.seq = RCVNXT - 1;
	expect("RST below RCV.NXT (RFC 5961 3.2): dropped", &s, XDP_DROP, -1,
	       HXS_XDP_RST_OUT_OF_WINDOW, HXS_XDP_DROPPED, -1);
	s.seq = RCVNXT + RCVWND;
	expect("RST at RCV.NXT + RCV.WND (first outside): dropped", &s, XDP_DROP, -1,
	       HXS_XDP_RST_OUT_OF_WINDOW, HXS_XDP_DROPPED, -1);
	s.seq = RCVNXT + 0x80000000u;
	expect("RST half the sequence space away: dropped", &s, XDP_DROP, -1,
	       HXS_XDP_RST_OUT_OF_WINDOW, HXS_XDP_DROPPED, -1);
	s.seq = RCVNXT + RCVWND - 1;
	expect("RST at the window's last byte: steered (the stack challenges it)", &s, XDP_REDIRECT,
	       HXS_FP_NOT_PURE, HXS_XDP_TCP_STEERED, -1);
	s.seq = RCVNXT;
	expect("RST at RCV.NXT: steered", &s, XDP_REDIRECT, HXS_FP_NOT_PURE, HXS_XDP_TCP_STEERED, -1);
	s.flags = RST | ACK;
	s.seq = RCVNXT + 5;
	expect("RST+ACK in window: steered, an ACK declined", &s, XDP_REDIRECT, HXS_FP_NOT_PURE,
	       HXS_XDP_TCP_STEERED, HXS_XDP_ACK_DECLINED, -1);
	s.seq = RCVNXT - 5;
	expect("RST+ACK out of window: dropped", &s, XDP_DROP, -1, HXS_XDP_RST_OUT_OF_WINDOW,
	       HXS_XDP_DROPPED, -1);
	slot_untouched(F_ALL);

	slot_base(HXS_SLOT_F_FAST | HXS_SLOT_F_TS);
	s.flags = RST;
	s.seq = RCVNXT - 1;
	expect("RST out of window, slot without F_RST: steered", &s, XDP_REDIRECT, HXS_FP_NOT_PURE,
	       HXS_XDP_TCP_STEERED, -1);

	slot_base(F_ALL);
	SLOTS[SLOT].rcv_adv = RCVNXT;           /* zero window */
	s.seq = RCVNXT;
	expect("zero window: RST at RCV.NXT steered", &s, XDP_REDIRECT, HXS_FP_NOT_PURE,
	       HXS_XDP_TCP_STEERED, -1);
	s.seq = RCVNXT + 1;
	expect("zero window: RST at RCV.NXT + 1 dropped", &s, XDP_DROP, -1, HXS_XDP_RST_OUT_OF_WINDOW,
	       HXS_XDP_DROPPED, -1);
}

static void cases_doorbell(void)
{
	struct seg s;

	slot_base(F_ALL);
	HDR->sleeping = 1;
	nrung = 0;
	s = ack_seg(2000, 150);
	expect("stack asleep, ACK consumed: doorbell rung", &s, XDP_DROP, -1, HXS_XDP_ACK_FAST_PATH,
	       HXS_XDP_WAKEUPS, -1);
	CHECK_EQ(HDR->sleeping, 0);
	CHECK_EQ(ring_buffer__consume(RING), 1);
	CHECK_EQ(nrung, 1);
	CHECK_EQ(rung[0], SLOT);
	s = ack_seg(2100, 150);
	expect("stack awake (flag cleared by the first): no second ring", &s, XDP_DROP, -1,
	       HXS_XDP_ACK_FAST_PATH, -1);
	CHECK_EQ(ring_buffer__consume(RING), 0);
	HDR->sleeping = 1;
	s = ack_seg(2100, 150);
	expect("stack asleep, ACK declined (duplicate): no ring, flag stays", &s, XDP_REDIRECT,
	       HXS_FP_OLD_ACK, HXS_XDP_TCP_STEERED, HXS_XDP_ACK_DECLINED, -1);
	CHECK_EQ(HDR->sleeping, 1);
	CHECK_EQ(ring_buffer__consume(RING), 0);
	HDR->sleeping = 0;
}

static void cases_meta(void)
{
	struct seg s = { .sport = RPORT, .dport = LPORT, .flags = ACK | PSH, .seq = RCVNXT,
			 .ack = 2000, .payload = 100 };
	struct hxs_xdp_meta m;

	slot_base(F_ALL);
	m = meta_of(&s);
	t_case("metadata of a data segment: slot, gen, offsets, reason");
	CHECK_EQ(m.magic, HXS_META_MAGIC);
	CHECK_EQ(m.slot, SLOT);
	CHECK_EQ(m.gen, GEN);
	CHECK_EQ(m.l3_off, 14);
	CHECK_EQ(m.l4_off, 34);
	CHECK_EQ(m.reason, HXS_FP_NOT_PURE);
	CHECK_EQ(m.flags, 0);
	CHECK_EQ(m.pad, 0);
	s.vlan = 1;
	m = meta_of(&s);
	t_case("metadata behind an 802.1Q tag: l3 18, l4 38");
	CHECK_EQ(m.l3_off, 18);
	CHECK_EQ(m.l4_off, 38);
	s.vlan = 0;
	s.ipopt = 1;
	m = meta_of(&s);
	t_case("metadata with 4 bytes of IPv4 options: l4 38");
	CHECK_EQ(m.l3_off, 14);
	CHECK_EQ(m.l4_off, 38);
	s.ipopt = 0;
	s.v6 = 1;
	m = meta_of(&s);
	t_case("metadata of IPv6: l4 54, the v6 connection's slot");
	CHECK_EQ(m.l4_off, 54);
	CHECK_EQ(m.slot, SLOT);
	s = (struct seg){ .udp = 1, .sport = 999, .dport = UDP_PORT };
	expect("UDP to a bound port: steered with metadata", &s, XDP_REDIRECT, HXS_FP_NO_SLOT,
	       HXS_XDP_UDP_STEERED, -1);
	m = meta_of(&s);
	CHECK_EQ(m.slot, HXS_SLOT_NONE);
	CHECK_EQ(m.gen, 0);
	CHECK_EQ(m.l4_off, 34);
	s = (struct seg){ .sport = 5000, .dport = 8080, .flags = SYN, .seq = 1 };
	expect("SYN to a listener: steered with metadata, no slot", &s, XDP_REDIRECT, HXS_FP_NO_SLOT,
	       HXS_XDP_TCP_STEERED, -1);
	s.dport = 8081;
	expect("TCP to a port hxs does not own: passed, no metadata", &s, XDP_PASS, -1,
	       HXS_XDP_PASSED, -1);
	CHECK_EQ(hxs_xdp__xsk_clear(X, 0), 0);
	s = ack_seg(2000, 150);
	s.payload = 10;
	expect("owned, no AF_XDP socket: passed without metadata", &s, XDP_PASS, -1,
	       HXS_XDP_NO_SOCKET, HXS_XDP_PASSED, HXS_XDP_ACK_DECLINED, -1);
}

/* --- concurrency ---------------------------------------------------------------------- */
#define STRESS_RUNS 20000
static volatile int stress_done;
static volatile uint32_t stress_run;    /* the XDP side's run counter: paces the stack */
static struct {
	uint64_t cas_ok, cas_fail, reads;
	int back, beyond;           /* invariant violations seen by the stack thread */
} B;

static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* The stack: once per XDP run (paced by stress_run, so SND.UNA does not run to SND.MAX at
 * once and leave nothing to take) raises SND.MAX (store, as before a segment is queued),
 * and one time in four processes an ACK itself: SND.UNA forward by compare-and-swap,
 * window and count kept, while the XDP side's next run is under way.
 * Checks on every read of the ack word: SND.UNA never behind the last seen, never past
 * SND.MAX. */
static void *stack_thread(void *arg)
{
	struct hxs_slot *s = &SLOTS[SLOT];
	uint32_t x = 12345, snd_max = __atomic_load_n(&s->snd_max, __ATOMIC_RELAXED);
	uint32_t last = HXS_SLOT_ACK_UNA(__atomic_load_n(&s->ack, __ATOMIC_ACQUIRE)), seen = 0;

	(void)arg;
	while (!stress_done) {
		uint64_t w = __atomic_load_n(&s->ack, __ATOMIC_ACQUIRE), nw;
		uint32_t una = HXS_SLOT_ACK_UNA(w), gap;

		if (stress_run == seen)
			continue;
		seen = stress_run;

		B.reads++;
		if (HXS_FP_SEQ_LT(una, last))
			B.back++;
		if (HXS_FP_SEQ_GT(una, snd_max))
			B.beyond++;
		last = una;
		if (snd_max - una < 200000) {
			snd_max += 1 + rnd(&x) % 3000;
			__atomic_store_n(&s->snd_max, snd_max, __ATOMIC_RELEASE);
		}
		gap = snd_max - una < 2000 ? snd_max - una : 2000;
		if (rnd(&x) % 4 == 0 && gap) {
			nw = HXS_SLOT_ACK(una + 1 + rnd(&x) % gap, HXS_SLOT_ACK_WND(w),
					  HXS_SLOT_ACK_N(w));
			if (__atomic_compare_exchange_n(&s->ack, &w, nw, 0, __ATOMIC_SEQ_CST,
							__ATOMIC_SEQ_CST))
				B.cas_ok++;
			else
				B.cas_fail++;
		}
	}
	return NULL;
}

static void stress(void)
{
	struct hxs_slot *s = &SLOTS[SLOT];
	uint64_t takes = 0, redirects = 0, reasons[HXS_FP__COUNT] = { 0 };
	__u64 before[HXS_XDP_STAT_MAX], after[HXS_XDP_STAT_MAX];
	uint32_t x = 777, tsval = TSRECENT, maxtaken = UNA;
	int bad_take = 0, errs = 0;
	pthread_t th;
	uint8_t f[256];
	struct out o;

	t_case("concurrency: XDP consuming ACKs while the stack raises SND.MAX and CASes SND.UNA");
	slot_base(F_ALL);
	stress_done = 0;
	CHECK_EQ(hxs_xdp__stats(X, before), 0);
	if (!CHECK_EQ(pthread_create(&th, NULL, stack_thread, NULL), 0))
		return;
	for (int i = 0; i < STRESS_RUNS; i++) {
		uint32_t una = HXS_SLOT_ACK_UNA(__atomic_load_n(&s->ack, __ATOMIC_ACQUIRE));
		uint32_t smax = __atomic_load_n(&s->snd_max, __ATOMIC_ACQUIRE);
		/* mostly new data acknowledged; some duplicates, some old, some beyond SND.MAX */
		uint32_t ack = una - 20 + rnd(&x) % (smax - una + 60);
		struct seg g = ack_seg(ack, ++tsval);

		stress_run = (uint32_t)i + 1;
		if (run(f, build(f, &g), &o)) {
			errs++;
			continue;
		}
		if (o.verdict == XDP_DROP) {
			takes++;
			/* taken: it was above the SND.UNA read before the run, and at most the
			 * SND.MAX now (which only grows) */
			if (!HXS_FP_SEQ_GT(ack, una) ||
			    HXS_FP_SEQ_GT(ack, __atomic_load_n(&s->snd_max, __ATOMIC_ACQUIRE)))
				bad_take++;
			if (HXS_FP_SEQ_GT(ack, maxtaken))
				maxtaken = ack;
		} else if (o.verdict == XDP_REDIRECT && o.meta.reason < HXS_FP__COUNT) {
			redirects++;
			reasons[o.meta.reason]++;
		}
	}
	stress_done = 1;
	pthread_join(th, NULL);
	CHECK_EQ(hxs_xdp__stats(X, after), 0);

	uint64_t w = s->ack;
	printf("# %d runs: %llu consumed, %llu declined (old %llu, future %llu, race %llu); stack "
	       "CAS %llu ok, %llu lost, %llu reads\n", STRESS_RUNS, (unsigned long long)takes,
	       (unsigned long long)redirects, (unsigned long long)reasons[HXS_FP_OLD_ACK],
	       (unsigned long long)reasons[HXS_FP_ACK_FUTURE], (unsigned long long)reasons[HXS_FP_RACE],
	       (unsigned long long)B.cas_ok, (unsigned long long)B.cas_fail,
	       (unsigned long long)B.reads);
	CHECK_EQ(errs, 0);
	CHECK_EQ(B.back, 0);
	CHECK_EQ(B.beyond, 0);
	CHECK_EQ(bad_take, 0);
	CHECK_EQ(takes + redirects, STRESS_RUNS);
	CHECK(takes > 0 && B.cas_ok > 0, "both sides moved SND.UNA");
	CHECK_EQ(s->nacks_total, takes);
	CHECK_EQ(HXS_SLOT_ACK_N(w), (uint16_t)(N0 + takes));
	CHECK(HXS_FP_SEQ_GEQ(HXS_SLOT_ACK_UNA(w), maxtaken), "SND.UNA %u behind a taken ACK %u",
	      HXS_SLOT_ACK_UNA(w), maxtaken);
	CHECK(HXS_FP_SEQ_LEQ(HXS_SLOT_ACK_UNA(w), s->snd_max));
	CHECK_EQ(after[HXS_XDP_IN_RECEIVES] - before[HXS_XDP_IN_RECEIVES], STRESS_RUNS);
	CHECK_EQ(after[HXS_XDP_ACK_FAST_PATH] - before[HXS_XDP_ACK_FAST_PATH], takes);
	CHECK_EQ(after[HXS_XDP_ACK_DECLINED] - before[HXS_XDP_ACK_DECLINED], redirects);
	CHECK_EQ(after[HXS_XDP_TCP_STEERED] - before[HXS_XDP_TCP_STEERED], redirects);
	CHECK_EQ(after[HXS_XDP_DROPPED] - before[HXS_XDP_DROPPED], 0);
}

int main(void)
{
	size_t slots_len = (size_t)HXS_MAX_SLOTS * sizeof(struct hxs_slot);
	int xsk, err, fd;
	void *m;

	if (geteuid())
		T_SKIP_ALL("needs root");
	hxs_addr_v4(HOST4, htonl(0x0a4d0002));
	hxs_addr_v4(PEER4, htonl(0x0a4d0001));
	inet_pton(AF_INET6, "fd77::2", HOST6);
	inet_pton(AF_INET6, "fd77::1", PEER6);

	t_case("setup: load, AF_XDP socket in hxs_xsks[0], slots mapped, doorbell ring open");
	err = hxs_xdp__open(&X, NULL, NULL);
	if (!CHECK_EQ(err, 0))
		return t_done();
	xsk = make_xsk();
	if (!CHECK(xsk >= 0, "AF_XDP socket: %s", strerror(-xsk)))
		return t_done();
	CHECK_EQ(hxs_xdp__xsk_set(X, 0, xsk), 0);
	fd = hxs_xdp__map_fd(X, HXS_MAP_SLOTS);
	m = mmap(NULL, slots_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!CHECK(m != MAP_FAILED, "mmap of hxs_slots: %s", strerror(errno)))
		return t_done();
	SLOTS = m;
	HDR = m;
	RING = ring_buffer__new(hxs_xdp__map_fd(X, HXS_MAP_WAKE), ring_cb, NULL, NULL);
	if (!CHECK(RING != NULL))
		return t_done();
	conn_set(HOST4, PEER4, IPPROTO_TCP, SLOT, GEN);
	conn_set(HOST6, PEER6, IPPROTO_TCP, SLOT, GEN);
	{
		uint8_t any[16];

		hxs_addr_v4(any, 0);
		CHECK_EQ(hxs_xdp__bind_add(X, any, htons(UDP_PORT), IPPROTO_UDP, 1, 0), 0);
		CHECK_EQ(hxs_xdp__bind_add(X, any, htons(8080), IPPROTO_TCP, 2, HXS_BIND_F_LISTEN), 0);
	}

	cases_accept();
	cases_decline();
	cases_rst();
	cases_doorbell();
	stress();
	cases_meta();       /* last: it takes the socket out of the map */

	t_case("every frame got exactly one terminal counter");
	{
		__u64 v[HXS_XDP_STAT_MAX];

		CHECK_EQ(hxs_xdp__stats(X, v), 0);
		CHECK_EQ(v[HXS_XDP_IN_RECEIVES], v[HXS_XDP_PASSED] + v[HXS_XDP_DROPPED] +
							 v[HXS_XDP_TCP_STEERED] + v[HXS_XDP_UDP_STEERED] +
							 v[HXS_XDP_ACK_FAST_PATH]);
		printf("# %llu frames, %llu consumed in XDP\n", (unsigned long long)v[0],
		       (unsigned long long)v[HXS_XDP_ACK_FAST_PATH]);
	}
	ring_buffer__free(RING);
	munmap(m, slots_len);
	hxs_xdp__close(X);
	close(xsk);
	return t_done();
}
