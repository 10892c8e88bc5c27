/* hxs.bpf.c - the XDP program: parse every frame, steer the flows hxs owns to the AF_XDP
 * socket of the receive queue, give everything else to the kernel.
 *
 * hxs_xdp() | hxs_xdp_frags() -> hxs_rx() -> parse_l2() -> parse_ipv4() | parse_ipv6()     (parse.h)
 *     -> steer_l4() -> owned() (conn, bind, eph maps) -> steer_tcp() -> fp_tcp()  (fastpath_xdp.h)
 *                  -> hxs_syncookie_xdp()  listener with HXS_BIND_F_COOKIES  (syncookie_xdp.h)
 *                     -> XDP_TX | redirect() with HXS_META_F_COOKIE | drop()
 *                                            -> redirect() -> fp_put_meta()
 *                              -> steer_udp() -> redirect() -> fp_put_meta()
 *     -> later_fragment()
 *
 * Verdicts: owned and well-formed -> XDP_REDIRECT into hxs_xsks[rx queue], with struct
 * hxs_xdp_meta in front of the frame; owned but the queue has no socket -> XDP_PASS
 * (NoSocket); owned but malformed, or a fragment of an owned datagram -> XDP_DROP;
 * everything else, including frames too broken to tell whose they are -> XDP_PASS, so the
 * kernel judges (and counts) them as it would without hxs.
 * A connection with a slot (conn entry {slot, gen}, see shared.h) may also end here: a pure
 * ACK the fast path consumed -> XDP_DROP counted XdpAckFastPath (its own terminal, not
 * XdpDropped); a RST outside the receive window (RFC 5961 §3.2) -> XDP_DROP.
 *
 * Loadable two ways: by libxdp through the skeleton (user/xdp_ctl.c, which sets hxs_cfg and
 * clears the pin paths), and by `ip link set dev X xdp obj hxs.bpf.o sec xdp`, which pins the
 * maps below by name under $TC_BPF_MNT/tc/globals and runs with the default hxs_cfg.
 */
#include <linux/bpf.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "hxs/shared.h"
#include "parse.h"

/* Set through the skeleton before load; these defaults are what `ip link ... xdp obj` runs. */
const volatile struct hxs_xdp_cfg hxs_cfg = HXS_XDP_CFG_DEFAULT;

/* AF_XDP sockets, indexed by receive queue: where owned frames are redirected. Filled by
 * the datapath, one socket per queue it serves. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, HXS_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hxs_xsks SEC(".maps");

/* Local (addr, port, proto) of hxs TCP listeners and bound UDP sockets. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HXS_MAX_BINDS);
	__type(key, struct hxs_bind_key);
	__type(value, struct hxs_bind_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hxs_binds SEC(".maps");

/* 4-tuples of hxs connections (and connected UDP sockets); checked before hxs_binds. Not
 * preallocated: an entry costs kernel memory only while a connection holds it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HXS_MAX_CONNS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct hxs_conn_key);
	__type(value, struct hxs_conn_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hxs_conns SEC(".maps");

/* Ephemeral TCP ports hxs holds (struct hxs_eph_val, indexed by the local port in host
 * order; see shared.h): written by userspace through its mapping, no syscall per connect. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HXS_MAX_EPH);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct hxs_eph_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hxs_eph SEC(".maps");

/* Counters, one __u64 per enum hxs_xdp_stat per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HXS_XDP_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hxs_stats SEC(".maps");

/* Datagrams of owned flows whose first fragment was dropped, so the later fragments (which
 * carry no ports) are dropped too. Written only by the program; LRU so it never fills up. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HXS_MAX_FRAGS);
	__type(key, struct hxs_frag_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hxs_frags SEC(".maps");

/* Connection slots (struct hxs_slot, layout and writers in shared.h): what the ACK fast path
 * judges against and writes its progress to. Mapped by userspace (BPF_F_MMAPABLE); slot 0 is
 * the stack-wide header. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HXS_MAX_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct hxs_slot);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hxs_slots SEC(".maps");

/* Doorbell: a record (the slot id) when an ACK consumed here finds the stack asleep; the
 * stack sleeps in epoll on this ring's fd. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hxs_wake SEC(".maps");

/* SYN-cookie secrets (struct hxs_cookie_secret), written by the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hxs_cookie_secret);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hxs_cookie SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&hxs_stats, &idx);

	if (v)
		*v += 1;        /* per-CPU slot: no other writer */
}

/* XDP_PASS with its reason counted (why == HXS_XDP_PASSED: no reason beyond "not ours"). */
static __always_inline int pass(__u32 why)
{
	if (why != HXS_XDP_PASSED)
		count(why);
	count(HXS_XDP_PASSED);
	return XDP_PASS;
}

static __always_inline int drop(__u32 why)
{
	count(why);
	count(HXS_XDP_DROPPED);
	return XDP_DROP;
}

/* A bind entry steers UDP always, TCP only when it is a listener. */
static __always_inline int bind_steers(const struct hxs_bind_val *v, __u8 proto)
{
	return v && (proto == IPPROTO_UDP || (v->flags & HXS_BIND_F_LISTEN));
}

enum own { OWN_NONE = 0, OWN_CONN, OWN_BIND };

/* A TCP frame to an ephemeral port hxs holds on exactly the frame's local address. Read
 * once per word: userspace rewrites the entry while we run (shared.h). */
static __always_inline int eph_owned(const struct hxs_conn_key *k)
{
	__u32 port = bpf_ntohs(k->lport);
	const struct hxs_eph_val *e;
	__u32 a[4];

	if (k->proto != IPPROTO_TCP)
		return 0;
	__builtin_memcpy(a, k->laddr, 16);
	e = bpf_map_lookup_elem(&hxs_eph, &port);
	if (!e)
		return 0;
	return *(const volatile __u32 *)&e->addr[3] == a[3] &&
	       *(const volatile __u32 *)&e->addr[2] == a[2] &&
	       *(const volatile __u32 *)&e->addr[1] == a[1] &&
	       *(const volatile __u32 *)&e->addr[0] == a[0] &&
	       (a[0] | a[1] | a[2] | a[3]);
}

/* Does hxs own this frame? Connection 4-tuple (its value copied to *cv: the slot), then the
 * exact local address, then the family's wildcard (as the kernel's lookup falls back from a
 * bound-only socket on the exact address to a wildcard listener; *bflags gets the steering
 * bind entry's flags), then an ephemeral port hxs holds on that address (steered like a
 * listener's frame without cookies: *bflags 0). */
static __always_inline enum own owned(const struct hxs_conn_key *k, int v4,
				      struct hxs_conn_val *cv, __u32 *bflags)
{
	struct hxs_bind_key b = {};
	struct hxs_conn_val *c;
	struct hxs_bind_val *v;

	c = bpf_map_lookup_elem(&hxs_conns, k);
	if (c) {
		cv->slot = c->slot;
		cv->gen = c->gen;
		return OWN_CONN;
	}
	__builtin_memcpy(b.addr, k->laddr, 16);
	b.port = k->lport;
	b.proto = k->proto;
	v = bpf_map_lookup_elem(&hxs_binds, &b);
	if (!bind_steers(v, k->proto)) {
		/* IPv4 wildcard ::ffff:0.0.0.0 keeps the prefix; IPv6 wildcard is :: */
		if (v4)
			__builtin_memset(b.addr + 12, 0, 4);
		else
			__builtin_memset(b.addr, 0, 16);
		v = bpf_map_lookup_elem(&hxs_binds, &b);
		if (!bind_steers(v, k->proto)) {
			if (!eph_owned(k))
				return OWN_NONE;
			*bflags = 0;
			return OWN_BIND;
		}
	}
	*bflags = v->flags;
	return OWN_BIND;
}

static __always_inline void frag_key(struct hxs_frag_key *f, const struct hxs_pkt *pkt)
{
	__builtin_memcpy(f->saddr, pkt->key.raddr, 16);
	__builtin_memcpy(f->daddr, pkt->key.laddr, 16);
	f->id = pkt->frag_id;
	f->proto = pkt->key.proto;
}

/* A fragment with offset > 0: dropped if its first fragment belonged to hxs, else the
 * kernel's (a later fragment that overtakes its first one also goes to the kernel, whose
 * reassembly then times out: hxs never sees a datagram in pieces). */
static __always_inline int later_fragment(const struct hxs_pkt *pkt)
{
	struct hxs_frag_key f = {};

	frag_key(&f, pkt);
	if (bpf_map_lookup_elem(&hxs_frags, &f))
		return drop(HXS_XDP_FRAG_DROPS);
	return pass(HXS_XDP_PASSED);
}

#include "fastpath_xdp.h"

static __always_inline int redirect(struct xdp_md *ctx, __u32 steered,
				    const struct hxs_xdp_meta *m)
{
	__u32 q = ctx->rx_queue_index;
	long rc;

	/* bpf_redirect_map() would fall back to XDP_PASS by itself, but silently: look first
	 * so a missing socket is counted. */
	if (!bpf_map_lookup_elem(&hxs_xsks, &q))
		return pass(HXS_XDP_NO_SOCKET);
	fp_put_meta(ctx, m);
	rc = bpf_redirect_map(&hxs_xsks, q, XDP_PASS);
	if (rc != XDP_REDIRECT)         /* socket went away between the two calls */
		return pass(HXS_XDP_NO_SOCKET);
	count(steered);
	return XDP_REDIRECT;
}

/* Owned and not a fragment: the lengths decide between steer and drop; a connection's
 * segment goes past the fast path first (which may end it). */
static __always_inline int steer_tcp(struct xdp_md *ctx, const struct tcphdr *th,
				     const struct hxs_pkt *pkt, enum own own,
				     const struct hxs_conn_val *cv, struct hxs_xdp_meta *m)
{
	int rc;

	/* RFC 9293 section 3.1: "Data Offset: ... The TCP header (even one including options)
	 * is an integer multiple of 32 bits long" and has at least the 5 fixed words. */
	if (th->doff < 5 || th->doff * 4u > pkt->l4_len)
		return drop(HXS_XDP_TCP_HDR_ERRORS);
	if (own == OWN_CONN) {
		rc = fp_tcp(ctx, th, pkt, cv, m);
		if (rc >= 0)
			return rc;
	}
	return redirect(ctx, HXS_XDP_TCP_STEERED, m);
}

static __always_inline int steer_udp(struct xdp_md *ctx, const struct udphdr *uh, __u32 l4_len,
				     const struct hxs_xdp_meta *m)
{
	__u32 len = bpf_ntohs(uh->len);

	/* RFC 768: "Length is the length in octets of this user datagram including this
	 * header and the data. (This means the minimum value of the length is eight.)" */
	if (len < sizeof(*uh) || len > l4_len)
		return drop(HXS_XDP_UDP_HDR_ERRORS);
	return redirect(ctx, HXS_XDP_UDP_STEERED, m);
}

/* SYN cookies for listeners under SYN pressure (answers SYNs, validates ACKs) */
#include "syncookie_xdp.h"

/* pkt->l4_off as an offset the verifier lets a header be added to (a packet pointer plus at
 * most MAX_PACKET_OFF, 0xffff, including the header): the header was in the frame's linear
 * part, far below 0x7fff. The mask in asm: clang would drop a plain one (the offset is a u16)
 * and the verifier, which follows the register rather than the type, would not see it. */
static __always_inline __u64 l4_off_bounded(const struct hxs_pkt *pkt)
{
	__u64 off = pkt->l4_off;

#ifdef __bpf__
	asm volatile("%0 &= 0x7fff" : "+r"(off));
#else
	off &= 0x7fff;                    /* the fuzz harness builds this file as userspace C */
#endif
	return off;
}

/* The first fragment of an owned datagram: remember it for the later ones, drop it. */
static __always_inline int first_fragment(const struct hxs_pkt *pkt)
{
	struct hxs_frag_key f = {};
	__u32 one = 1;

	frag_key(&f, pkt);
	bpf_map_update_elem(&hxs_frags, &f, &one, BPF_ANY);
	return drop(HXS_XDP_FRAG_DROPS);
}

/* The L4 header of a whole datagram or a first fragment: the fixed header must be there to
 * read the ports; once ownership is known, the lengths decide. TCP and UDP take separate
 * paths with their own header pointer: one nullable pointer per protocol made clang merge
 * them into a register the verifier could no longer prove non-NULL. */
static __always_inline int steer_l4(struct xdp_md *ctx, struct cursor *c, struct hxs_pkt *pkt)
{
	struct hxs_xdp_meta m = {
		.magic = HXS_META_MAGIC,
		.l3_off = pkt->l3_off,
		.l4_off = pkt->l4_off,
		.reason = HXS_FP_NO_SLOT,       /* not judged: no conn entry, or not TCP */
	};
	struct hxs_conn_val cv = {};
	struct tcphdr *th;
	struct udphdr *uh;
	__u32 bflags = 0;
	enum own own;
	int rc;

	if (pkt->key.proto == IPPROTO_TCP) {
		th = cur_pull(c, sizeof(*th));
		if (!th || pkt->l4_len < sizeof(*th))
			return pass(HXS_XDP_IN_TRUNCATED);
		pkt->key.lport = th->dest;
		pkt->key.rport = th->source;
		own = owned(&pkt->key, pkt->v4, &cv, &bflags);
		if (own == OWN_NONE)
			return pass(HXS_XDP_PASSED);
		if (pkt->frag == FRAG_FIRST)
			return first_fragment(pkt);
		m.slot = cv.slot;
		m.gen = cv.gen;
		/* a listener's segment (no conn entry) while it is under SYN pressure: a SYN is
		 * answered (XDP_TX), an ACK validated (redirect with HXS_META_F_COOKIE, or drop) */
		if (own == OWN_BIND && (bflags & HXS_BIND_F_COOKIES)) {
			rc = hxs_syncookie_xdp(ctx, pkt, bflags, &m);
			if (rc >= 0)
				return rc;
			/* the verifier forgets packet pointers across a call of a global function
			 * that may move the data (it can adjust the tail): find the header again */
			th = (void *)(long)ctx->data + l4_off_bounded(pkt);
			if ((void *)(th + 1) > (void *)(long)ctx->data_end)
				return pass(HXS_XDP_IN_TRUNCATED);
		}
		return steer_tcp(ctx, th, pkt, own, &cv, &m);
	}
	uh = cur_pull(c, sizeof(*uh));
	if (!uh || pkt->l4_len < sizeof(*uh))
		return pass(HXS_XDP_IN_TRUNCATED);
	pkt->key.lport = uh->dest;
	pkt->key.rport = uh->source;
	if (owned(&pkt->key, pkt->v4, &cv, &bflags) == OWN_NONE)
		return pass(HXS_XDP_PASSED);
	if (pkt->frag == FRAG_FIRST)
		return first_fragment(pkt);
	m.slot = cv.slot;
	m.gen = cv.gen;
	return steer_udp(ctx, uh, pkt->l4_len, &m);
}

static __always_inline int hxs_rx(struct xdp_md *ctx)
{
	struct cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
		.frame_len = (__u32)bpf_xdp_get_buff_len(ctx),
	};
	struct hxs_pkt pkt = {};
	enum parse_rc rc;
	__u16 proto = 0;

	count(HXS_XDP_IN_RECEIVES);
	rc = parse_l2(&c, &pkt, &proto);
	if (pkt.vlan)
		count(HXS_XDP_VLAN);
	if (rc == P_OK) {
		if (proto == ETH_P_IP)
			rc = parse_ipv4(&c, &pkt);
		else if (hxs_cfg.flags & HXS_XDP_CFG_F_IPV6)
			rc = parse_ipv6(&c, &pkt);
		else
			rc = P_IPV6;
	}
	switch (rc) {
	case P_OK:              /* TCP or UDP: ours to judge */
		break;
	case P_NOT_L4:          /* ICMP, ICMPv6, other protocols: the kernel's */
	case P_IPV6:            /* IPv6 not served */
		return pass(HXS_XDP_PASSED);
	case P_NON_IP:          /* ARP and the like */
		return pass(HXS_XDP_NON_IP);
	case P_TRUNC:           /* too short to know the owner: the kernel drops and counts it */
		return pass(HXS_XDP_IN_TRUNCATED);
	case P_HDRERR:
	default:
		return pass(HXS_XDP_IN_HDR_ERRORS);
	}
	if (pkt.frag == FRAG_LATER)
		return later_fragment(&pkt);
	return steer_l4(ctx, &c, &pkt);
}

/* The program. Plain XDP: what `ip link ... xdp obj hxs.bpf.o sec xdp` and libxdp load. */
SEC("xdp")
int hxs_xdp(struct xdp_md *ctx)
{
	return hxs_rx(ctx);
}

/* The same, multi-buffer aware (BPF_F_XDP_HAS_FRAGS): veth refuses a plain XDP program when
 * the peer's MTU is above about 3500 ("Peer MTU is too large to set XDP"); this one attaches
 * at jumbo MTUs (`ip link ... sec xdp.frags`, or hxs_xdp_opts.frags). Headers must be in the
 * first buffer; lengths are checked against the whole frame. */
SEC("xdp.frags")
int hxs_xdp_frags(struct xdp_md *ctx)
{
	return hxs_rx(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
