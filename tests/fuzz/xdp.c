/* xdp.c - libFuzzer target: the XDP program (bpf/hxs.bpf.c with the parsers of bpf/parse.h)
 * compiled as userspace C and run on fuzzed frames.
 *
 * The program's source is included as it is. What BPF gives it comes from the harness:
 * tests/fuzz/lib/bpf/bpf_helpers.h declares the helpers, defined below over plain tables
 * (a fixed set of binds, 4-tuples and AF_XDP sockets; the fragment map; the counters);
 * struct xdp_md is renamed to one holding real pointers (BPF's holds 32-bit offsets);
 * `const` is dropped while the program's source is read, so that hxs_cfg (const volatile:
 * libbpf rewrites it before load) can be set per input, as libbpf would.
 *
 * Input: byte 0 bit 0 turns IPv6 steering on (HXS_XDP_CFG_F_IPV6). Then frames, each a
 * header byte (bit 0: receive queue 1, which has no AF_XDP socket, else queue 0; bits 1-7:
 * bytes the frame has beyond its first buffer / 16, as a multi-buffer frame of xdp.frags
 * has), a 16-bit length and the frame's first buffer, copied to the end of a heap buffer
 * (ASan: no read past data_end), 2 bytes past alignment as NET_IP_ALIGN drivers place
 * frames. Fragment state carries over between the frames of one input.
 *
 * Checked per frame: the verdict, and the exact change of every counter, equal those of
 * model(), an independent reading of the rules the README's XDP table states (Ethernet +
 * one VLAN tag, RFC 791 IPv4, RFC 8200 IPv6 extension headers and fragments, RFC 9293 data
 * offset, RFC 768 length, ownership by 4-tuple, exact bind, wildcard bind, ephemeral port
 * held on the frame's address); and the
 * README's accounting: InReceives once, exactly one of Passed/Dropped/TcpSteered/UdpSteered.
 * A redirected frame carries struct hxs_xdp_meta (bpf_xdp_adjust_meta() into 32 bytes of
 * headroom, as a driver keeps in front of the frame) whose offsets equal the model's. The
 * harness's 4-tuples have no slot (gen 0): the ACK fast path is not reached here; its
 * rules are tested in tests/bpf/test_xdp_fastpath.c.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "hxs/shared.h"
#include "fuzz.h"

/* The program's context with real pointers (BPF's struct xdp_md holds 32-bit offsets). */
struct hxs_fuzz_xdp_md {
	uintptr_t data, data_end, data_meta;
	__u32 rx_queue_index;
	__u32 ingress_ifindex;      /* read by the SYN-cookie path only */
	__u32 buff_len;             /* what bpf_xdp_get_buff_len() says */
};
#define xdp_md hxs_fuzz_xdp_md
#define const
#include "../../bpf/hxs.bpf.c"
#undef const
#undef xdp_md

/* --- the maps ---------------------------------------------------------------------------- */
struct bind_ent {
	struct hxs_bind_key k;
	struct hxs_bind_val v;
};
struct conn_ent {
	struct hxs_conn_key k;
	struct hxs_conn_val v;
};

static struct bind_ent binds[8];
static struct conn_ent conns[8];
static unsigned nbinds, nconns;
static struct hxs_frag_key frags[HXS_MAX_FRAGS];
static __u32 frag_vals[HXS_MAX_FRAGS];
static unsigned nfrags;
static __u64 stats[HXS_XDP_STAT_MAX];
static __u32 xsk_fd = 1;        /* queue 0 has a socket, queue 1 none */
static struct hxs_slot slots[HXS_MAX_SLOTS];
static struct hxs_eph_val eph[HXS_MAX_EPH];   /* the ephemeral ports hxs holds, by port */
#define META_ROOM 32            /* the most bpf_xdp_adjust_meta() grants */

void *bpf_map_lookup_elem(void *map, const void *key)
{
	if (map == (void *)&hxs_stats) {
		__u32 i = *(const __u32 *)key;
		return i < HXS_XDP_STAT_MAX ? &stats[i] : NULL;
	}
	if (map == (void *)&hxs_xsks)
		return *(const __u32 *)key == 0 ? &xsk_fd : NULL;
	if (map == (void *)&hxs_binds) {
		for (unsigned i = 0; i < nbinds; i++)
			if (!memcmp(&binds[i].k, key, sizeof(binds[i].k)))
				return &binds[i].v;
		return NULL;
	}
	if (map == (void *)&hxs_conns) {
		for (unsigned i = 0; i < nconns; i++)
			if (!memcmp(&conns[i].k, key, sizeof(conns[i].k)))
				return &conns[i].v;
		return NULL;
	}
	if (map == (void *)&hxs_frags) {
		for (unsigned i = 0; i < nfrags; i++)
			if (!memcmp(&frags[i], key, sizeof(frags[i])))
				return &frag_vals[i];
		return NULL;
	}
	if (map == (void *)&hxs_slots) {
		__u32 i = *(const __u32 *)key;
		return i < HXS_MAX_SLOTS ? &slots[i] : NULL;
	}
	if (map == (void *)&hxs_eph) {
		__u32 i = *(const __u32 *)key;
		return i < HXS_MAX_EPH ? &eph[i] : NULL;
	}
	FZ_CHECK(0, "lookup in an unknown map");
	return NULL;
}

long bpf_map_update_elem(void *map, const void *key, const void *value, __u64 flags)
{
	FZ_CHECK(map == (void *)&hxs_frags && flags == BPF_ANY, "update of another map");
	const struct hxs_frag_key *k = key;
	FZ_CHECK(!k->pad[0] && !k->pad[1] && !k->pad[2], "fragment key padding not zero");
	for (unsigned i = 0; i < nfrags; i++)
		if (!memcmp(&frags[i], key, sizeof(frags[i]))) {
			frag_vals[i] = *(const __u32 *)value;
			return 0;
		}
	/* One input holds fewer frames than the map's entries: it never evicts here. */
	FZ_CHECK(nfrags < HXS_MAX_FRAGS, "fragment map full");
	memcpy(&frags[nfrags], key, sizeof(frags[nfrags]));
	frag_vals[nfrags++] = *(const __u32 *)value;
	return 0;
}

long bpf_redirect_map(void *map, __u64 key, __u64 flags)
{
	FZ_CHECK(map == (void *)&hxs_xsks, "redirect into another map");
	return key == 0 ? XDP_REDIRECT : (long)flags;
}

__u64 bpf_xdp_get_buff_len(void *ctx)
{
	return ((struct hxs_fuzz_xdp_md *)ctx)->buff_len;
}

/* Only the first buffer is real here: a read beyond it fails (-EFAULT), as one past the
 * whole frame does in the kernel. */
long bpf_xdp_load_bytes(void *ctx, __u32 offset, void *buf, __u32 len)
{
	struct hxs_fuzz_xdp_md *c = ctx;

	if ((uint64_t)offset + len > c->data_end - c->data)
		return -14;
	memcpy(buf, (const void *)(c->data + offset), len);
	return 0;
}

/* data_meta moves within META_ROOM bytes in front of data, in steps of 4 (the kernel's
 * xdp_metalen_invalid()). */
long bpf_xdp_adjust_meta(void *ctx, int delta)
{
	struct hxs_fuzz_xdp_md *c = ctx;
	uintptr_t meta = c->data_meta + (intptr_t)delta;

	if (meta > c->data || c->data - meta > META_ROOM || (c->data - meta) % 4)
		return -13;
	c->data_meta = meta;
	return 0;
}

long bpf_ringbuf_output(void *ringbuf, void *data, __u64 size, __u64 flags)
{
	(void)data, (void)size, (void)flags;
	FZ_CHECK(ringbuf == (void *)&hxs_wake, "ring output to another map");
	FZ_CHECK(0, "doorbell rung without a fast-path slot");
	return 0;
}

long bpf_loop(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags)
{
	long (*fn)(__u32, void *) = (long (*)(__u32, void *))callback_fn;
	__u32 i;

	FZ_CHECK(flags == 0, "bpf_loop flags");
	for (i = 0; i < nr_loops; i++)
		if (fn(i, callback_ctx))
			return i + 1;
	return i;
}

/* The SYN-cookie path is tested by tests/bpf/test_xdp_syncookie.c; no bind entry here has
 * HXS_BIND_F_COOKIES, so reaching one of these is a bug. */
long bpf_xdp_store_bytes(void *ctx, __u32 off, void *buf, __u32 len)
{
	(void)ctx, (void)off, (void)buf, (void)len;
	FZ_CHECK(0, "SYN-cookie path reached");
	return -1;
}

long bpf_xdp_adjust_tail(void *ctx, int delta)
{
	(void)ctx, (void)delta;
	FZ_CHECK(0, "SYN-cookie path reached");
	return -1;
}

__u64 bpf_ktime_get_ns(void)
{
	FZ_CHECK(0, "SYN-cookie path reached");
	return 0;
}

long bpf_redirect(__u32 ifindex, __u64 flags)
{
	(void)ifindex, (void)flags;
	FZ_CHECK(0, "SYN-cookie path reached");
	return 0;
}

static void v4mapped(__u8 *a, const char *dotted)
{
	unsigned b[4];
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	if (sscanf(dotted, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]) == 4)
		for (int i = 0; i < 4; i++)
			a[12 + i] = (__u8)b[i];
}

static void v6(__u8 *a, __u16 first, __u16 last)
{
	memset(a, 0, 16);
	a[0] = (__u8)(first >> 8);
	a[1] = (__u8)first;
	a[14] = (__u8)(last >> 8);
	a[15] = (__u8)last;
}

static void add_bind(const __u8 *addr, __u16 port, __u8 proto, __u32 flags)
{
	struct bind_ent *b = &binds[nbinds++];
	memset(b, 0, sizeof(*b));
	memcpy(b->k.addr, addr, 16);
	b->k.port = bpf_htons(port);
	b->k.proto = proto;
	b->v.flags = flags;
}

static void add_conn(const __u8 *l, __u16 lport, const __u8 *r, __u16 rport, __u8 proto)
{
	struct conn_ent *c = &conns[nconns++];
	memset(c, 0, sizeof(*c));
	memcpy(c->k.laddr, l, 16);
	memcpy(c->k.raddr, r, 16);
	c->k.lport = bpf_htons(lport);
	c->k.rport = bpf_htons(rport);
	c->k.proto = proto;
}

/* 10.0.0.1 and 2001:db8::1 are ours; the peers 10.0.0.2 and 2001:db8::2. */
static void setup_maps(void)
{
	__u8 us4[16], peer4[16], any4[16], us6[16], peer6[16], any6[16];
	v4mapped(us4, "10.0.0.1");
	v4mapped(peer4, "10.0.0.2");
	v4mapped(any4, "0.0.0.0");
	v6(us6, 0x2001, 1);
	us6[2] = 0x0d;
	us6[3] = 0xb8;
	memcpy(peer6, us6, 16);
	peer6[15] = 2;
	memset(any6, 0, 16);
	add_bind(us4, 80, IPPROTO_TCP, HXS_BIND_F_LISTEN);
	add_bind(us4, 81, IPPROTO_TCP, 0);                   /* bound, not listening */
	add_bind(any4, 53, IPPROTO_UDP, 0);
	add_bind(any4, 8080, IPPROTO_TCP, HXS_BIND_F_LISTEN);
	add_bind(us6, 443, IPPROTO_TCP, HXS_BIND_F_LISTEN);
	add_bind(any6, 5353, IPPROTO_UDP, 0);
	add_conn(us4, 40000, peer4, 80, IPPROTO_TCP);
	add_conn(us4, 41000, peer4, 9999, IPPROTO_UDP);
	add_conn(us6, 40001, peer6, 80, IPPROTO_TCP);
	/* ephemeral ports hxs holds: on our IPv4 and IPv6 address, and one held on the peer's
	 * address (a frame to us on that port is not ours) */
	memcpy(eph[50000].addr, us4, 16);
	memcpy(eph[50001].addr, us6, 16);
	memcpy(eph[50002].addr, peer4, 16);
}

/* --- the model --------------------------------------------------------------------------- */
struct verdict {
	int action;
	__u64 cnt[HXS_XDP_STAT_MAX];
	__u32 l3off, l4off;     /* of a redirected frame */
};

/* The model's own fragment set (what first fragments of owned flows were seen). */
static struct hxs_frag_key mfrags[HXS_MAX_FRAGS];
static unsigned nmfrags;

static unsigned be16(const __u8 *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static int ends(struct verdict *v, int action, int why)
{
	if (why >= 0)
		v->cnt[why]++;
	v->action = action;
	v->cnt[action == XDP_PASS ? HXS_XDP_PASSED : HXS_XDP_DROPPED]++;
	return action;
}

static int model_owned(const __u8 *laddr, const __u8 *raddr, __u16 lport, __u16 rport, __u8 proto, int is4)
{
	for (unsigned i = 0; i < nconns; i++)
		if (!memcmp(conns[i].k.laddr, laddr, 16) && !memcmp(conns[i].k.raddr, raddr, 16) &&
		    conns[i].k.lport == lport && conns[i].k.rport == rport && conns[i].k.proto == proto)
			return 1;
	/* exact address first, then the family's wildcard (::ffff:0.0.0.0 or ::) */
	for (int pass = 0; pass < 2; pass++) {
		__u8 a[16];
		memcpy(a, laddr, 16);
		if (pass)
			memset(is4 ? a + 12 : a, 0, is4 ? 4 : 16);
		for (unsigned i = 0; i < nbinds; i++)
			if (!memcmp(binds[i].k.addr, a, 16) && binds[i].k.port == lport && binds[i].k.proto == proto &&
			    (proto == IPPROTO_UDP || (binds[i].v.flags & HXS_BIND_F_LISTEN)))
				return 1;
	}
	/* then a TCP port hxs holds in its ephemeral range, on exactly this address */
	static const __u8 none[16];
	const struct hxs_eph_val *e = &eph[be16((const __u8 *)&lport)];

	return proto == IPPROTO_TCP && memcmp(e->addr, none, 16) && !memcmp(e->addr, laddr, 16);
}

static int model_has_frag(const struct hxs_frag_key *k)
{
	for (unsigned i = 0; i < nmfrags; i++)
		if (!memcmp(&mfrags[i], k, sizeof(*k)))
			return 1;
	return 0;
}

static int model(const __u8 *f, __u32 len, __u32 flen, int queue, int ipv6_on, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->cnt[HXS_XDP_IN_RECEIVES] = 1;
	if (len < 14)
		return ends(v, XDP_PASS, HXS_XDP_IN_TRUNCATED);
	unsigned et = be16(f + 12), off = 14;
	if (et == ETH_P_8021Q || et == ETH_P_8021AD) {
		v->cnt[HXS_XDP_VLAN]++;
		if (len < 18)
			return ends(v, XDP_PASS, HXS_XDP_IN_TRUNCATED);
		et = be16(f + 16);
		off = 18;
	}
	if (et != ETH_P_IP && et != ETH_P_IPV6)
		return ends(v, XDP_PASS, HXS_XDP_NON_IP);
	if (et == ETH_P_IPV6 && !ipv6_on)
		return ends(v, XDP_PASS, -1);

	__u8 laddr[16], raddr[16], proto;
	__u32 l4len, l4off, fid = 0;
	int later = 0, first = 0, is4 = et == ETH_P_IP;
	if (is4) {
		/* RFC 791 §3.1: version 4, IHL >= 5 words, total length covers the header. */
		if (len - off < 20)
			return ends(v, XDP_PASS, HXS_XDP_IN_TRUNCATED);
		unsigned ver = f[off] >> 4, hl = (f[off] & 15u) * 4;
		if (ver != 4 || hl < 20)
			return ends(v, XDP_PASS, HXS_XDP_IN_HDR_ERRORS);
		if (len - off < hl)
			return ends(v, XDP_PASS, HXS_XDP_IN_TRUNCATED);
		unsigned tot = be16(f + off + 2), fo = be16(f + off + 6);
		if (tot < hl)
			return ends(v, XDP_PASS, HXS_XDP_IN_HDR_ERRORS);
		if (tot > flen - off)
			return ends(v, XDP_PASS, HXS_XDP_IN_TRUNCATED);
		memset(laddr, 0, 16);
		laddr[10] = laddr[11] = 0xff;
		memcpy(raddr, laddr, 16);
		memcpy(laddr + 12, f + off + 16, 4);
		memcpy(raddr + 12, f + off + 12, 4);
		proto = f[off + 9];
		later = (fo & 0x1fff) != 0;
		first = !later && (fo & 0x2000);
		__u16 id16;
		memcpy(&id16, f + off + 4, 2);
		fid = id16;
		if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
			return ends(v, XDP_PASS, -1);
		l4len = tot - hl;
		l4off = off + hl;
	} else {
		/* RFC 8200 §3: version 6, payload length (0: jumbogram, not ours). */
		if (len - off < 40)
			return ends(v, XDP_PASS, HXS_XDP_IN_TRUNCATED);
		if (f[off] >> 4 != 6)
			return ends(v, XDP_PASS, HXS_XDP_IN_HDR_ERRORS);
		__u32 plen = be16(f + off + 4);
		if (!plen)
			return ends(v, XDP_PASS, -1);
		if (plen > flen - off - 40)
			return ends(v, XDP_PASS, HXS_XDP_IN_TRUNCATED);
		static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };
		if (!memcmp(f + off + 8, mapped, 12) || !memcmp(f + off + 24, mapped, 12))
			return ends(v, XDP_PASS, HXS_XDP_IN_HDR_ERRORS);
		memcpy(raddr, f + off + 8, 16);
		memcpy(laddr, f + off + 24, 16);
		__u8 nh = f[off + 6];
		__u32 p = off + 40;
		int done = 0;
		/* RFC 8200 §4: walk at most 6 extension headers. */
		for (int i = 0; i < 6 && !done; i++) {
			if (nh == IPPROTO_TCP || nh == IPPROTO_UDP) {
				done = 1;
			} else if (nh == 0 || nh == 43 || nh == 60) {
				/* §4.3-4.6: next header, length in 8-octet units not counting the first 8 */
				if (len - p < 8)
					return ends(v, XDP_PASS, HXS_XDP_IN_TRUNCATED);
				__u32 elen = (f[p + 1] + 1u) * 8;
				if (elen > plen || len - p < elen)
					return ends(v, XDP_PASS, HXS_XDP_IN_TRUNCATED);
				if (nh == 43 && f[p + 3] != 0)        /* §4.4: segments left */
					return ends(v, XDP_PASS, -1);
				plen -= elen;
				nh = f[p];
				p += elen;
			} else if (nh == 44) {
				/* §4.5: fragment offset (13 bits) << 3 | M */
				if (len - p < 8 || plen < 8)
					return ends(v, XDP_PASS, HXS_XDP_IN_TRUNCATED);
				plen -= 8;
				unsigned fo = be16(f + p + 2);
				if (fo & 0xfff8)
					later = 1;
				else if (fo & 1)
					first = 1;
				memcpy(&fid, f + p + 4, 4);
				nh = f[p];
				p += 8;
				if (later) {
					if (nh != IPPROTO_TCP && nh != IPPROTO_UDP)
						return ends(v, XDP_PASS, -1);
					done = 1;
				}
			} else {
				return ends(v, XDP_PASS, -1);
			}
		}
		if (!done)
			return ends(v, XDP_PASS, -1);
		proto = nh;
		l4len = plen;
		l4off = p;
	}
	struct hxs_frag_key fk;
	memset(&fk, 0, sizeof(fk));
	memcpy(fk.saddr, raddr, 16);
	memcpy(fk.daddr, laddr, 16);
	fk.id = fid;
	fk.proto = proto;
	if (later)
		return model_has_frag(&fk) ? ends(v, XDP_DROP, HXS_XDP_FRAG_DROPS) : ends(v, XDP_PASS, -1);

	unsigned hdr = proto == IPPROTO_TCP ? 20 : 8;
	if (len - l4off < hdr || l4len < hdr)
		return ends(v, XDP_PASS, HXS_XDP_IN_TRUNCATED);
	__u16 sport, dport;
	memcpy(&sport, f + l4off, 2);
	memcpy(&dport, f + l4off + 2, 2);
	if (!model_owned(laddr, raddr, dport, sport, proto, is4))
		return ends(v, XDP_PASS, -1);
	if (first) {
		if (!model_has_frag(&fk))
			mfrags[nmfrags++] = fk;
		return ends(v, XDP_DROP, HXS_XDP_FRAG_DROPS);
	}
	if (proto == IPPROTO_TCP) {
		/* RFC 9293 §3.1: data offset >= 5 words, within the segment. */
		unsigned doff = f[l4off + 12] >> 4;
		if (doff < 5 || doff * 4 > l4len)
			return ends(v, XDP_DROP, HXS_XDP_TCP_HDR_ERRORS);
	} else {
		/* RFC 768: length >= 8, within the datagram. */
		unsigned ulen = be16(f + l4off + 4);
		if (ulen < 8 || ulen > l4len)
			return ends(v, XDP_DROP, HXS_XDP_UDP_HDR_ERRORS);
	}
	if (queue != 0)
		return ends(v, XDP_PASS, HXS_XDP_NO_SOCKET);
	v->action = XDP_REDIRECT;
	v->l3off = off;
	v->l4off = l4off;
	v->cnt[proto == IPPROTO_TCP ? HXS_XDP_TCP_STEERED : HXS_XDP_UDP_STEERED]++;
	return XDP_REDIRECT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = HXS_XDP_STAT_NAMES;
	struct fz in = FZ_INIT(data, size);
	if (!nbinds)
		setup_maps();
	nfrags = nmfrags = 0;
	memset(stats, 0, sizeof(stats));
	int ipv6_on = fz_u8(&in) & 1;
	hxs_cfg.flags = ipv6_on ? HXS_XDP_CFG_F_IPV6 : 0;

	while (fz_more(&in)) {
		uint8_t h = fz_u8(&in);
		size_t len;
		const uint8_t *p = fz_bytes(&in, fz_u16(&in), &len);
		/* The frame starts 2 bytes past an aligned address, so the IP header after a
		 * 14-byte Ethernet header is 4-byte aligned, as drivers with NET_IP_ALIGN place
		 * it (BPF loads need no alignment on x86; userspace C's do). */
		uint8_t *buf = malloc(META_ROOM + len + 2), *frame = buf + META_ROOM + 2;
		memcpy(frame, p, len);
		struct hxs_fuzz_xdp_md ctx = {
			.data = (uintptr_t)frame,
			.data_end = (uintptr_t)frame + len,
			.data_meta = (uintptr_t)frame,
			.rx_queue_index = h & 1,
			.buff_len = (__u32)len + (h >> 1) * 16u,
		};
		__u64 before[HXS_XDP_STAT_MAX];
		memcpy(before, stats, sizeof(stats));
		int act = (h >> 1) ? hxs_xdp_frags(&ctx) : hxs_xdp(&ctx);
		struct verdict v;
		model(frame, (__u32)len, ctx.buff_len, h & 1, ipv6_on, &v);
		struct hxs_xdp_meta m = { 0 };
		if (ctx.data - ctx.data_meta == sizeof(m))
			memcpy(&m, (const void *)ctx.data_meta, sizeof(m));
		free(buf);

		FZ_CHECK(act == v.action, "verdict %d, the model says %d", act, v.action);
		if (act == XDP_REDIRECT) {
			FZ_CHECK(ctx.data - ctx.data_meta == sizeof(m), "metadata of %zu bytes",
				 (size_t)(ctx.data - ctx.data_meta));
			FZ_CHECK(m.magic == HXS_META_MAGIC && m.l3_off == v.l3off && m.l4_off == v.l4off &&
				 m.slot == HXS_SLOT_NONE && m.gen == 0 && m.reason == HXS_FP_NO_SLOT &&
				 m.flags == 0, "metadata magic %x l3 %u l4 %u (model %u %u) slot %u reason %u",
				 m.magic, m.l3_off, m.l4_off, v.l3off, v.l4off, m.slot, m.reason);
		} else {
			FZ_CHECK(ctx.data_meta == ctx.data, "metadata on a frame not redirected");
		}
		for (int i = 0; i < HXS_XDP_STAT_MAX; i++)
			FZ_CHECK(stats[i] - before[i] == v.cnt[i], "%s moved by %llu, the model says %llu",
				 names[i], (unsigned long long)(stats[i] - before[i]),
				 (unsigned long long)v.cnt[i]);
		if (getenv("FUZZ_TRACE")) {
			fprintf(stderr, "frame %zu bytes (+%u) queue %u: verdict %d:", len,
				ctx.buff_len - (__u32)len, h & 1, act);
			for (int i = 0; i < HXS_XDP_STAT_MAX; i++)
				if (v.cnt[i])
					fprintf(stderr, " %s", names[i]);
			fputc('\n', stderr);
		}
		__u64 ends_n = stats[HXS_XDP_PASSED] + stats[HXS_XDP_DROPPED] +
			       stats[HXS_XDP_TCP_STEERED] + stats[HXS_XDP_UDP_STEERED];
		FZ_CHECK(stats[HXS_XDP_IN_RECEIVES] == ends_n, "InReceives %llu, verdicts %llu",
			 (unsigned long long)stats[HXS_XDP_IN_RECEIVES], (unsigned long long)ends_n);
	}
	return 0;
}
