/* syncookie.h - the one SYN-cookie scheme of hxs (RFC 4987 §3.6), plain C compiled both into
 * the XDP program (clang -target bpf) and into the TCP core (gcc). No libc, no loops without a
 * fixed bound, no tables in memory: everything the verifier accepts.
 *
 *   SYN  -> hxs_sc_mss_index() -> hxs_sc_make()      the cookie (our ISS)
 *        -> hxs_sc_ts_encode()                       the peer's options in our TSval
 *        -> hxs_sc_synack()                          the SYN-ACK's TCP header, checksum filled
 *   ACK  -> hxs_sc_check(SEG.ACK - 1, SEG.SEQ - 1)   valid? and which MSS class
 *        -> hxs_sc_ts_decode(TSecr)                  window scale and SACK-permitted back
 *
 * The cookie (32 bits, our ISS):
 *     bits 31-26  t: the time counter, seconds / 64 (mod 64)
 *     bits 25-24  the MSS class: 536, 1300, 1440, 1460 (the kernel's IPv4 table)
 *     bits 23-0   SipHash-2-4(key, peer addr, our addr, peer port, our port, peer ISN, t, MSS
 *                 class), low 24 bits
 * A cookie is valid in the period it was made and the next (64 to 128 s), under the current or
 * the previous key of struct hxs_cookie_secret (the stack rotates keys every HXS_SC_ROTATE_S,
 * longer than a cookie lives, so a rotation never invalidates a live cookie). An attacker who
 * does not know the key guesses 24 bits per ACK; the time and MSS bits are covered by the MAC.
 *
 * Options (RFC 4987 §3.6: "the server ... cannot ... store ... options"): only MSS is in the
 * cookie. When the SYN carried timestamps (RFC 7323), the SYN-ACK's TSval carries the rest in
 * its low 6 bits, as the kernel does: bits 0-3 the peer's window scale (0xf: none), bit 4 SACK-
 * permitted, bit 5 ECN (reserved, never set by hxs); the ACK echoes it in TSecr. Without
 * timestamps the SYN-ACK offers MSS only (window scaling and SACK are off for the connection).
 *
 * IPv4: addresses in network byte order as loaded from the header (the same 32-bit value
 * on both sides of one host), ports in host byte order; the MAC is over a 24-byte message.
 * IPv6 (v6 set): the 16-byte addresses as they are in the header, and the MAC is over a
 * 48-byte message (peer addr, our addr, ports, peer ISN, t, MSS class): SipHash's length
 * byte keeps the two families' messages apart, and both sides (XDP and the TCP core) compute
 * it from the same header bytes, so either side's cookie validates at the other. Time is
 * CLOCK_MONOTONIC seconds on both sides (bpf_ktime_get_ns() and the stack's clock).
 */
#ifndef HXS_SYNCOOKIE_H
#define HXS_SYNCOOKIE_H

#include <linux/types.h>
#include "hxs/shared.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define HXS_SC_PERIOD_SHIFT 6        /* t = seconds >> 6: a 64 s period */
#define HXS_SC_MAX_AGE      2        /* periods: the one of the SYN and the next */
#define HXS_SC_ROTATE_S     300      /* key rotation (> HXS_SC_MAX_AGE periods) */
#define HXS_SC_T_SHIFT      26
#define HXS_SC_MSS_SHIFT    24
#define HXS_SC_HASH_MASK    0xffffffu

#define HXS_SC_TS_BITS      6        /* low TSval bits that carry options */
#define HXS_SC_TS_MASK      0x3fu
#define HXS_SC_TS_WS_MASK   0x0fu    /* bits 0-3: the peer's window scale */
#define HXS_SC_TS_WS_NONE   0x0fu    /* the SYN had no window scale option */
#define HXS_SC_TS_SACK      0x10u    /* the SYN had SACK-permitted */
#define HXS_SC_TS_ECN       0x20u    /* reserved for ECN; hxs never sets it, an ACK with it set
				      * did not come from our SYN-ACK */

/* The connection a cookie is for. */
struct hxs_sc_tuple {
	__u32 raddr, laddr;          /* peer (the SYN's source), ours; network order; IPv4 */
	__u16 rport, lport;          /* host order */
	__u32 v6;                    /* 1: the addresses are raddr6/laddr6 (raddr, laddr unused) */
	__u8  raddr6[16], laddr6[16];/* IPv6 (v6 == 1), as in the header */
};

/* What a SYN said (the caller parsed its options). */
struct hxs_sc_syn {
	__u32 isn;                   /* SEG.SEQ of the SYN */
	__u32 tsval;                 /* with has_ts */
	__u16 mss;                   /* with has_mss */
	__u8  has_mss, has_ws, ws, sack_perm, has_ts, pad;
};

/* What the listener offers in a cookie SYN-ACK. */
struct hxs_sc_local {
	__u16 mss;                   /* our MSS option */
	__u16 win;                   /* the SYN-ACK's window field (never scaled, RFC 7323 §2.2) */
	__u8  ws;                    /* our window scale, when scaling is on */
	__u8  no_sack, no_ts, no_ws; /* options the listener does not offer */
};

/* The options a cookie ACK gives back (hxs_sc_check + hxs_sc_ts_decode). */
struct hxs_sc_opts {
	__u16 mss;                   /* the peer's MSS, from the class */
	__u8  ts_ok, sack_ok, ws_ok, ws;
};

/* The kernel's IPv4 MSS classes (msstab): the largest not above the peer's MSS (any smaller
 * MSS takes the first class, as the kernel does). */
static __always_inline __u32 hxs_sc_mss_index(__u32 mss)
{
	if (mss >= 1460)
		return 3;
	if (mss >= 1440)
		return 2;
	if (mss >= 1300)
		return 1;
	return 0;
}

static __always_inline __u16 hxs_sc_mss_of(__u32 idx)
{
	switch (idx & 3) {
	case 0:
		return 536;
	case 1:
		return 1300;
	case 2:
		return 1440;
	default:
		return 1460;
	}
}

static __always_inline __u32 hxs_sc_time(__u64 secs)
{
	return (__u32)(secs >> HXS_SC_PERIOD_SHIFT) & 0x3f;
}

#define HXS_SC_ROTL(x, b) (__u64)(((x) << (b)) | ((x) >> (64 - (b))))
#define HXS_SC_ROUND(v0, v1, v2, v3)                                                    \
	do {                                                                            \
		v0 += v1; v1 = HXS_SC_ROTL(v1, 13); v1 ^= v0; v0 = HXS_SC_ROTL(v0, 32); \
		v2 += v3; v3 = HXS_SC_ROTL(v3, 16); v3 ^= v2;                           \
		v0 += v3; v3 = HXS_SC_ROTL(v3, 21); v3 ^= v0;                           \
		v2 += v1; v1 = HXS_SC_ROTL(v1, 17); v1 ^= v2; v2 = HXS_SC_ROTL(v2, 32); \
	} while (0)

/* SipHash-2-4 (Aumasson & Bernstein 2012) of a 24-byte message given as its three
 * little-endian 64-bit words, under the key (k0, k1) (the key's two little-endian halves):
 * the same value as the general SipHash of those 24 bytes. */
static __always_inline __u64 hxs_sc_siphash3(__u64 k0, __u64 k1, __u64 m0, __u64 m1, __u64 m2)
{
	__u64 v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	__u64 v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	__u64 b = (__u64)24 << 56;   /* the final block: the length in the top byte */

	v3 ^= m0; HXS_SC_ROUND(v0, v1, v2, v3); HXS_SC_ROUND(v0, v1, v2, v3); v0 ^= m0;
	v3 ^= m1; HXS_SC_ROUND(v0, v1, v2, v3); HXS_SC_ROUND(v0, v1, v2, v3); v0 ^= m1;
	v3 ^= m2; HXS_SC_ROUND(v0, v1, v2, v3); HXS_SC_ROUND(v0, v1, v2, v3); v0 ^= m2;
	v3 ^= b;  HXS_SC_ROUND(v0, v1, v2, v3); HXS_SC_ROUND(v0, v1, v2, v3); v0 ^= b;
	v2 ^= 0xff;
	HXS_SC_ROUND(v0, v1, v2, v3); HXS_SC_ROUND(v0, v1, v2, v3);
	HXS_SC_ROUND(v0, v1, v2, v3); HXS_SC_ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Eight address bytes as the little-endian word SipHash reads (host independent). */
static __always_inline __u64 hxs_sc_le64(const __u8 *p)
{
	return (__u64)p[0] | (__u64)p[1] << 8 | (__u64)p[2] << 16 | (__u64)p[3] << 24 |
	       (__u64)p[4] << 32 | (__u64)p[5] << 40 | (__u64)p[6] << 48 | (__u64)p[7] << 56;
}

/* SipHash-2-4 of the 48-byte IPv6 message: the tuple's addresses (four words, read where
 * they are: no copy on the BPF stack, whose 512 bytes this code shares), then m4, m5. */
static __always_inline __u64 hxs_sc_siphash6(__u64 k0, __u64 k1, const struct hxs_sc_tuple *t,
					     __u64 m4, __u64 m5)
{
	__u64 v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	__u64 v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	__u64 b = (__u64)48 << 56, m;  /* the final block: the length in the top byte */

#define HXS_SC_BLOCK(w) \
	do { m = (w); v3 ^= m; HXS_SC_ROUND(v0, v1, v2, v3); HXS_SC_ROUND(v0, v1, v2, v3); \
	     v0 ^= m; } while (0)
	HXS_SC_BLOCK(hxs_sc_le64(t->raddr6));
	HXS_SC_BLOCK(hxs_sc_le64(t->raddr6 + 8));
	HXS_SC_BLOCK(hxs_sc_le64(t->laddr6));
	HXS_SC_BLOCK(hxs_sc_le64(t->laddr6 + 8));
	HXS_SC_BLOCK(m4);
	HXS_SC_BLOCK(m5);
	HXS_SC_BLOCK(b);
#undef HXS_SC_BLOCK
	v2 ^= 0xff;
	HXS_SC_ROUND(v0, v1, v2, v3); HXS_SC_ROUND(v0, v1, v2, v3);
	HXS_SC_ROUND(v0, v1, v2, v3); HXS_SC_ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* In the XDP program a function of its own (a BPF subprogram, its registers spilled in its
 * own frame): inlined three times (make, check under two keys), the IPv6 SipHash took the
 * cookie code past clang's 512-byte stack limit for one function. */
#ifdef __bpf__
#define HXS_SC_MAC_INLINE static __attribute__((noinline))
#else
#define HXS_SC_MAC_INLINE static __always_inline
#endif

HXS_SC_MAC_INLINE __u32 hxs_sc_mac(const __u64 *key, const struct hxs_sc_tuple *t,
				   __u32 peer_isn, __u32 tc, __u32 mssidx)
{
	__u64 m1 = (__u64)t->rport | (__u64)t->lport << 16 | (__u64)peer_isn << 32;
	__u64 m2 = (__u64)(tc & 0x3f) | (__u64)(mssidx & 3) << 8;

	if (t->v6)
		return (__u32)hxs_sc_siphash6(key[0], key[1], t, m1, m2) & HXS_SC_HASH_MASK;
	return (__u32)hxs_sc_siphash3(key[0], key[1], (__u64)t->raddr | (__u64)t->laddr << 32,
				      m1, m2) & HXS_SC_HASH_MASK;
}

/* A key of zeros is no key (the previous one before the first rotation, or a map the stack
 * has not written yet): it never validates anything. */
static __always_inline int hxs_sc_key_set(const __u64 *key)
{
	return key[0] || key[1];
}

/* The cookie for a SYN with ISN peer_isn arriving at time secs, MSS class mssidx, under the
 * current key. */
static __always_inline __u32 hxs_sc_make(const struct hxs_cookie_secret *s,
					 const struct hxs_sc_tuple *t, __u32 peer_isn, __u64 secs,
					 __u32 mssidx)
{
	__u32 tc = hxs_sc_time(secs);

	return tc << HXS_SC_T_SHIFT | (mssidx & 3) << HXS_SC_MSS_SHIFT |
	       hxs_sc_mac(s->key[s->cur & 1], t, peer_isn, tc, mssidx);
}

/* An ACK's cookie (SEG.ACK - 1) for the SYN whose ISN was peer_isn (SEG.SEQ - 1): the MSS
 * class (0-3) if it is one of ours and not too old, else -1. */
static __always_inline int hxs_sc_check(const struct hxs_cookie_secret *s,
					const struct hxs_sc_tuple *t, __u32 peer_isn, __u32 cookie,
					__u64 secs)
{
	__u32 tc = cookie >> HXS_SC_T_SHIFT, idx = (cookie >> HXS_SC_MSS_SHIFT) & 3;
	__u32 mac = cookie & HXS_SC_HASH_MASK, cur = s->cur & 1;

	if (((hxs_sc_time(secs) - tc) & 0x3f) >= HXS_SC_MAX_AGE)
		return -1;
	if (hxs_sc_key_set(s->key[cur]) && hxs_sc_mac(s->key[cur], t, peer_isn, tc, idx) == mac)
		return (int)idx;
	if (hxs_sc_key_set(s->key[cur ^ 1]) &&
	    hxs_sc_mac(s->key[cur ^ 1], t, peer_isn, tc, idx) == mac)
		return (int)idx;
	return -1;
}

/* The SYN-ACK's TSval: our clock ts_now with the low 6 bits replaced by the options, moved
 * back one step if that put it ahead of the clock (the TSvals that follow must not be smaller,
 * RFC 7323 §5.3). ws < 0: the SYN had no window scale. */
static __always_inline __u32 hxs_sc_ts_encode(__u32 ts_now, int ws, int sack)
{
	/* RFC 7323 §2.3: a shift above 14 is used as 14 */
	__u32 opt = (ws < 0 ? HXS_SC_TS_WS_NONE : ws > 14 ? 14u : (__u32)ws) |
		    (sack ? HXS_SC_TS_SACK : 0);
	__u32 ts = (ts_now & ~HXS_SC_TS_MASK) | opt;

	if ((__s32)(ts - ts_now) > 0)
		ts -= HXS_SC_TS_MASK + 1;
	return ts;
}

/* The options of a cookie ACK: mssidx from hxs_sc_check, has_ts/tsecr from the ACK. An ACK
 * without timestamps gets none of the options that rode in the TSval (as the kernel's
 * cookie_timestamp_decode). Returns 0, or -1 if the TSecr cannot have come from us (ECN bit,
 * window scale above 14: RFC 7323 §2.3). */
static __always_inline int hxs_sc_ts_decode(__u32 mssidx, int has_ts, __u32 tsecr,
					    struct hxs_sc_opts *o)
{
	__u32 ws = tsecr & HXS_SC_TS_WS_MASK;

	o->mss = hxs_sc_mss_of(mssidx);
	o->ts_ok = o->sack_ok = o->ws_ok = o->ws = 0;
	if (!has_ts)
		return 0;
	if ((tsecr & HXS_SC_TS_ECN) || (ws != HXS_SC_TS_WS_NONE && ws > 14))
		return -1;
	o->ts_ok = 1;
	o->sack_ok = !!(tsecr & HXS_SC_TS_SACK);
	if (ws != HXS_SC_TS_WS_NONE) {
		o->ws_ok = 1;
		o->ws = (__u8)ws;
	}
	return 0;
}

static __always_inline void hxs_sc_put16(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static __always_inline void hxs_sc_put32(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 24);
	p[1] = (__u8)(v >> 16);
	p[2] = (__u8)(v >> 8);
	p[3] = (__u8)v;
}

/* RFC 1071 one's-complement sum of n 16-bit big-endian words (n <= 20: a TCP header). */
static __always_inline __u32 hxs_sc_sum16(const __u8 *p, __u32 n, __u32 sum)
{
	__u32 i;

	for (i = 0; i < 20; i++) {
		if (i >= n)
			break;
		sum += (__u32)p[2 * i] << 8 | p[2 * i + 1];
	}
	return sum;
}

static __always_inline __u16 hxs_sc_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* The cookie SYN-ACK's TCP header into p (at least 40 bytes): ports swapped, SEQ = cookie,
 * ACK = the SYN's ISN + 1, SYN|ACK, window loc->win, options as the core's SYN-ACK lays them
 * out (MSS; SACK-permitted and timestamps; NOP, window scale), checksum over the tuple's
 * family's pseudo-header filled (RFC 9293 §3.1, RFC 8200 §8.1). ts_now: our timestamp clock (ms). Returns the header
 * length (24 to 40). */
static __always_inline __u32 hxs_sc_synack(__u8 *p, const struct hxs_sc_tuple *t,
					   const struct hxs_sc_syn *syn,
					   const struct hxs_sc_local *loc, __u32 cookie, __u32 ts_now)
{
	/* RFC 4987 §3.6 / the kernel: without timestamps there is nowhere to keep the other
	 * options, so they are not offered (tcp_clear_options when want_cookie and no TS). */
	int ts = syn->has_ts && !loc->no_ts;
	int sack = ts && syn->sack_perm && !loc->no_sack;
	int ws = ts && syn->has_ws && !loc->no_ws;
	__u32 n = 20, hlen, sum;
	const __u8 *a;

	hxs_sc_put16(p, t->lport);
	hxs_sc_put16(p + 2, t->rport);
	hxs_sc_put32(p + 4, cookie);
	hxs_sc_put32(p + 8, syn->isn + 1);
	p[13] = 0x12;                                    /* SYN | ACK */
	hxs_sc_put16(p + 14, loc->win);
	p[16] = p[17] = p[18] = p[19] = 0;
	/* RFC 9293 §3.7.1: the MSS option on the SYN-ACK */
	p[n++] = 2;
	p[n++] = 4;
	hxs_sc_put16(p + n, loc->mss);
	n += 2;
	if (ts) {
		if (sack) {
			p[n++] = 4;                      /* SACK-permitted, RFC 2018 §2 */
			p[n++] = 2;
		} else {
			p[n++] = 1;
			p[n++] = 1;
		}
		p[n++] = 8;                              /* RFC 7323 §3.2: TSecr = SYN's TSval */
		p[n++] = 10;
		hxs_sc_put32(p + n, hxs_sc_ts_encode(ts_now, syn->has_ws && !loc->no_ws ? syn->ws : -1,
						       sack));
		hxs_sc_put32(p + n + 4, syn->tsval);
		n += 8;
	}
	if (ws) {
		p[n++] = 1;                              /* RFC 7323 §2.2 */
		p[n++] = 3;
		p[n++] = 3;
		p[n++] = loc->ws;
	}
	hlen = n;
	p[12] = (__u8)((hlen / 4) << 4);
	/* pseudo-header: our address, the peer's, protocol 6, TCP length (RFC 9293 §3.1; for
	 * IPv6 the 16-byte addresses, RFC 8200 §8.1: the same sum, the length and next header
	 * fit 16 bits each here) */
	if (t->v6) {
		sum = hxs_sc_sum16(t->laddr6, 8, 0);
		sum = hxs_sc_sum16(t->raddr6, 8, sum);
	} else {
		a = (const __u8 *)&t->laddr;
		sum = (__u32)a[0] << 8 | a[1];
		sum += (__u32)a[2] << 8 | a[3];
		a = (const __u8 *)&t->raddr;
		sum += (__u32)a[0] << 8 | a[1];
		sum += (__u32)a[2] << 8 | a[3];
	}
	sum += 6 + hlen;
	hxs_sc_put16(p + 16, hxs_sc_fold(hxs_sc_sum16(p, hlen / 2, sum)));
	return hlen;
}

#endif
