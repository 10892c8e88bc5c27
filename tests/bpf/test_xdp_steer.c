/* test_xdp_steer.c - the XDP program on hand-built frames (bpf_prog_test_run_opts, no
 * interface): every steering, pass and malformed-frame rule, each case asserting the verdict
 * and the exact delta of every counter.
 *
 * main() -> setup (load via hxs_xdp__open(NULL), AF_XDP socket into hxs_xsks[0])
 *        -> case_*() -> build a frame (mk4/mk6 + edits) -> expect() -> run() -> counter deltas
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
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
#include "check.h"
#include "xdp_test.h"
#include "hxs/xdp.h"

/* Frame shapes. The L4 area is always 36 bytes: a 20-byte TCP header (or an 8-byte UDP
 * header and 12 bytes of its payload) followed by 16 payload bytes. */
union l4 {
	struct tcphdr tcp;
	struct udphdr udp;
};
struct __attribute__((packed)) f4 {
	struct ethhdr eth;
	struct iphdr ip;
	union l4 l4;
	uint8_t payload[16];
};
struct __attribute__((packed)) f6 {
	struct ethhdr eth;
	struct ipv6hdr ip6;
	union l4 l4;
	uint8_t payload[16];
};
/* IPv6 with one 8-byte extension header (hop-by-hop, routing, fragment) */
struct __attribute__((packed)) f6x {
	struct ethhdr eth;
	struct ipv6hdr ip6;
	uint8_t ext[8];
	union l4 l4;
	uint8_t payload[16];
};
struct __attribute__((packed)) farp {
	struct ethhdr eth;
	uint8_t arp[28];
};
#define L4LEN ((uint16_t)(sizeof(union l4) + 16))

static const char *const stat_names[] = HXS_XDP_STAT_NAMES;
static struct hxs_xdp *X, *X_NO6, *X_FRAGS;
static uint8_t HOST4[16], PEER4[16], ANY4[16], HOST6[16], PEER6[16], ANY6[16];
static const uint32_t HOST = 0x0a4d0002, PEER = 0x0a4d0001;     /* 10.77.0.2, 10.77.0.1 */

/* --- checksums (RFC 1071) ----------------------------------------------------------------- */
static uint32_t sum16(const void *p, size_t n, uint32_t s)
{
	const uint8_t *b = p;

	for (; n > 1; n -= 2, b += 2)
		s += (uint32_t)(b[0] << 8 | b[1]);
	if (n)
		s += (uint32_t)b[0] << 8;
	return s;
}
static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}
/* TCP/UDP checksum over the pseudo-header (RFC 9293 section 3.1, RFC 768) into the l4 bytes
 * at l4 (len long); addresses alen bytes. Byte pointers only: the frames are packed. */
static void l4_csum(uint8_t proto, const void *src, const void *dst, size_t alen, void *l4,
		    size_t len)
{
	uint8_t *b = l4;
	size_t at = proto == IPPROTO_TCP ? 16 : 6;
	uint32_t s = sum16(src, alen, 0);
	uint16_t c;

	s = sum16(dst, alen, s) + proto + (uint32_t)len;
	b[at] = b[at + 1] = 0;
	c = fold(sum16(b, len, s));
	memcpy(b + at, &c, 2);
}

/* --- frame builders --------------------------------------------------------------------- */
static void mk_eth(struct ethhdr *e, uint16_t proto)
{
	static const uint8_t h[6] = { 2, 0, 0, 0, 0, 2 }, k[6] = { 2, 0, 0, 0, 0, 1 };

	memcpy(e->h_dest, h, 6);
	memcpy(e->h_source, k, 6);
	e->h_proto = htons(proto);
}

static void mk_l4(void *dst, uint8_t proto, uint16_t sport, uint16_t dport)
{
	union l4 l4 = {};

	if (proto == IPPROTO_TCP) {
		l4.tcp.source = htons(sport);
		l4.tcp.dest = htons(dport);
		l4.tcp.seq = htonl(1000);
		l4.tcp.doff = 5;
		l4.tcp.syn = 1;
		l4.tcp.window = htons(65535);
	} else {
		l4.udp.source = htons(sport);
		l4.udp.dest = htons(dport);
		l4.udp.len = htons(L4LEN);
	}
	memcpy(dst, &l4, sizeof(l4));
}

static void csum4(struct f4 *f)
{
	uint8_t *ip = (uint8_t *)f + sizeof(struct ethhdr);

	f->ip.check = 0;
	f->ip.check = fold(sum16(ip, sizeof(struct iphdr), 0));
	if (f->ip.protocol == IPPROTO_TCP || f->ip.protocol == IPPROTO_UDP)
		l4_csum(f->ip.protocol, ip + 12, ip + 16, 4, ip + sizeof(struct iphdr), L4LEN);
}

/* IPv4 PEER:sport -> HOST:dport with real checksums; returns the frame length. */
static size_t mk4(struct f4 *f, uint8_t proto, uint16_t sport, uint16_t dport)
{
	memset(f, 0, sizeof(*f));
	mk_eth((void *)f, ETH_P_IP);
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.tot_len = htons(sizeof(f->ip) + L4LEN);
	f->ip.id = htons(0x1234);
	f->ip.frag_off = htons(0x4000);         /* DF */
	f->ip.ttl = 64;
	f->ip.protocol = proto;
	f->ip.saddr = htonl(PEER);
	f->ip.daddr = htonl(HOST);
	mk_l4(f->payload - sizeof(union l4), proto, sport, dport);
	for (int i = 0; i < 16; i++)
		f->payload[i] = (uint8_t)i;
	csum4(f);
	return sizeof(*f);
}

static void mk_ip6(void *dst, uint8_t nexthdr, uint16_t plen)
{
	struct ipv6hdr ip6 = {};

	ip6.version = 6;
	ip6.payload_len = htons(plen);
	ip6.nexthdr = nexthdr;
	ip6.hop_limit = 64;
	memcpy(&ip6.saddr, PEER6, 16);
	memcpy(&ip6.daddr, HOST6, 16);
	memcpy(dst, &ip6, sizeof(ip6));
}

static size_t mk6(struct f6 *f, uint8_t proto, uint16_t sport, uint16_t dport)
{
	memset(f, 0, sizeof(*f));
	uint8_t *l4 = f->payload - sizeof(union l4);

	mk_eth((void *)f, ETH_P_IPV6);
	mk_ip6((uint8_t *)f + sizeof(struct ethhdr), proto, L4LEN);
	mk_l4(l4, proto, sport, dport);
	l4_csum(proto, PEER6, HOST6, 16, l4, L4LEN);
	return sizeof(*f);
}

/* IPv6 with one extension header of type ext (its 8 bytes in ext[]), then proto. */
static size_t mk6x(struct f6x *f, uint8_t ext, uint8_t proto, uint16_t sport, uint16_t dport)
{
	memset(f, 0, sizeof(*f));
	uint8_t *l4 = f->payload - sizeof(union l4);

	mk_eth((void *)f, ETH_P_IPV6);
	mk_ip6((uint8_t *)f + sizeof(struct ethhdr), ext, 8 + L4LEN);
	f->ext[0] = proto;      /* next header; hdrlen 0 = 8 bytes */
	mk_l4(l4, proto, sport, dport);
	l4_csum(proto, PEER6, HOST6, 16, l4, L4LEN);
	return sizeof(*f);
}

/* IPv6 with a chain of n extension headers: types[i] with lens[i] bytes (a multiple of 8;
 * hdrlen = lens[i] / 8 - 1, the rest zero: Pad1 options for hop-by-hop and destination
 * options, a type-0 routing header with segments left 0), then proto. Returns the length. */
static size_t mk6chain(uint8_t *out, const uint8_t *types, const uint16_t *lens, int n,
		       uint8_t proto, uint16_t sport, uint16_t dport)
{
	size_t off = sizeof(struct ethhdr) + sizeof(struct ipv6hdr), ext = 0;
	uint8_t *l4;

	for (int i = 0; i < n; i++)
		ext += lens[i];
	memset(out, 0, off + ext + L4LEN);
	mk_eth((void *)out, ETH_P_IPV6);
	mk_ip6(out + sizeof(struct ethhdr), n ? types[0] : proto, (uint16_t)(ext + L4LEN));
	for (int i = 0; i < n; i++) {
		out[off] = i + 1 < n ? types[i + 1] : proto;    /* next header */
		out[off + 1] = (uint8_t)(lens[i] / 8 - 1);      /* hdrlen, 8-octet units - 1 */
		off += lens[i];
	}
	l4 = out + off;
	mk_l4(l4, proto, sport, dport);
	for (int i = 0; i < 16; i++)
		l4[sizeof(union l4) + i] = (uint8_t)i;
	l4_csum(proto, PEER6, HOST6, 16, l4, L4LEN);
	return off + L4LEN;
}

/* Inserts an 802.1Q/802.1ad tag after the MAC addresses of frame (len bytes) into out. */
static size_t tag(uint8_t *out, const void *frame, size_t len, uint16_t tpid)
{
	const uint8_t *in = frame;
	uint16_t t = htons(tpid), tci = htons(100);

	memcpy(out, in, 12);
	memcpy(out + 12, &t, 2);
	memcpy(out + 14, &tci, 2);
	memcpy(out + 16, in + 12, len - 12);
	return len + 4;
}

/* --- running ---------------------------------------------------------------------------- */
static int run_on(struct hxs_xdp *x, const void *pkt, size_t len, __u64 d[HXS_XDP_STAT_MAX])
{
	__u64 a[HXS_XDP_STAT_MAX], b[HXS_XDP_STAT_MAX];
	static uint8_t out[16384];     /* test_run copies the frame back: room for jumbo */
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int err;

	if (hxs_xdp__stats(x, a))
		return -1;
	err = bpf_prog_test_run_opts(hxs_xdp__prog_fd(x), &o);
	if (err)
		return err;
	if (hxs_xdp__stats(x, b))
		return -1;
	for (int i = 0; i < HXS_XDP_STAT_MAX; i++)
		d[i] = b[i] - a[i];
	return (int)o.retval;
}

/* One case: runs pkt, checks the verdict and that exactly the listed counters (besides
 * InReceives, always +1) moved, by one each (a stat listed twice: by two). List ends at -1. */
static void expect_on(struct hxs_xdp *x, const char *name, const void *pkt, size_t len,
		      int verdict, ...)
{
	__u64 d[HXS_XDP_STAT_MAX], want[HXS_XDP_STAT_MAX] = { [HXS_XDP_IN_RECEIVES] = 1 };
	va_list ap;
	int s, rc;

	va_start(ap, verdict);
	while ((s = va_arg(ap, int)) >= 0)
		want[s]++;
	va_end(ap);
	if (verdict == XDP_PASS)
		want[HXS_XDP_PASSED]++;
	else if (verdict == XDP_DROP)
		want[HXS_XDP_DROPPED]++;

	t_case(name);
	rc = run_on(x, pkt, len, d);
	CHECK_EQ(rc, verdict);
	for (int i = 0; i < HXS_XDP_STAT_MAX; i++)
		if (rc >= 0 && !CHECK(d[i] == want[i], "%s moved by %llu, expected %llu", stat_names[i],
				       (unsigned long long)d[i], (unsigned long long)want[i]))
			break;
}
#define expect(name, pkt, len, verdict, ...) expect_on(X, name, pkt, len, verdict, ##__VA_ARGS__, -1)

#define P16(x) htons(x)
enum { TCP = IPPROTO_TCP, UDP = IPPROTO_UDP };
enum { L_EXACT = 8080, L_ANY = 8081, B_NOLISTEN = 8082, L_SHADOW = 8083, U_EXACT = 5353, U_ANY = 5354,
       C_LPORT = 40000, C_RPORT = 443, V6_T = 9090, V6_U = 9091, OTHER = 22, DUAL = 4545,
       UC_LPORT = 40001, UC_RPORT = 5000, EPH = 61000 };
enum { HOP = 0, ROUTING = 43, DSTOPTS = 60 };

static void setup_maps(struct hxs_xdp *x)
{
	CHECK_EQ(hxs_xdp__bind_add(x, HOST4, P16(L_EXACT), TCP, 1, HXS_BIND_F_LISTEN), 0);
	CHECK_EQ(hxs_xdp__bind_add(x, ANY4, P16(L_ANY), TCP, 2, HXS_BIND_F_LISTEN), 0);
	CHECK_EQ(hxs_xdp__bind_add(x, HOST4, P16(B_NOLISTEN), TCP, 3, 0), 0);
	CHECK_EQ(hxs_xdp__bind_add(x, HOST4, P16(L_SHADOW), TCP, 10, 0), 0);   /* bound only */
	CHECK_EQ(hxs_xdp__bind_add(x, ANY4, P16(L_SHADOW), TCP, 11, HXS_BIND_F_LISTEN), 0);
	CHECK_EQ(hxs_xdp__bind_add(x, HOST4, P16(U_EXACT), UDP, 4, 0), 0);
	CHECK_EQ(hxs_xdp__bind_add(x, ANY4, P16(U_ANY), UDP, 5, 0), 0);
	CHECK_EQ(hxs_xdp__conn_add(x, HOST4, P16(C_LPORT), PEER4, P16(C_RPORT), TCP, 7, 0), 0);
	/* a connected UDP socket's 4-tuple, its port bound nowhere else */
	CHECK_EQ(hxs_xdp__conn_add(x, HOST4, P16(UC_LPORT), PEER4, P16(UC_RPORT), UDP, 12, 0), 0);
	CHECK_EQ(hxs_xdp__bind_add(x, HOST6, P16(V6_T), TCP, 8, HXS_BIND_F_LISTEN), 0);
	CHECK_EQ(hxs_xdp__bind_add(x, ANY6, P16(V6_U), UDP, 9, 0), 0);
}

int main(void)
{
	struct f4 f4;
	struct f6 f6;
	struct f6x f6x;
	struct farp arp;
	uint8_t buf[512];
	size_t n;
	int xsk, err;

	if (geteuid())
		T_SKIP_ALL("needs root");
	hxs_addr_v4(HOST4, htonl(HOST));
	hxs_addr_v4(PEER4, htonl(PEER));
	hxs_addr_v4(ANY4, 0);
	inet_pton(AF_INET6, "fd77::2", HOST6);
	inet_pton(AF_INET6, "fd77::1", PEER6);
	memset(ANY6, 0, 16);

	t_case("setup: load program, fill maps, AF_XDP socket in hxs_xsks[0]");
	err = hxs_xdp__open(&X, NULL, NULL);
	if (!CHECK_EQ(err, 0))
		return t_done();
	err = hxs_xdp__open(&X_NO6, NULL, &(struct hxs_xdp_opts){ .no_ipv6 = true });
	if (!CHECK_EQ(err, 0))
		return t_done();
	err = hxs_xdp__open(&X_FRAGS, NULL, &(struct hxs_xdp_opts){ .frags = true });
	if (!CHECK_EQ(err, 0))
		return t_done();
	CHECK_EQ(hxs_xdp__how(X), HXS_XDP_LOADED);
	setup_maps(X);
	setup_maps(X_NO6);
	setup_maps(X_FRAGS);
	xsk = make_xsk();
	CHECK(xsk >= 0, "AF_XDP socket: %s", strerror(-xsk));
	CHECK_EQ(hxs_xdp__xsk_set(X, 0, xsk), 0);
	CHECK_EQ(hxs_xdp__xsk_set(X_NO6, 0, xsk), 0);
	CHECK_EQ(hxs_xdp__xsk_set(X_FRAGS, 0, xsk), 0);

	/* --- steering ------------------------------------------------------------------------ */
	n = mk4(&f4, TCP, 50000, L_EXACT);
	expect("TCP to exact-address listener: redirect", &f4, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);
	n = mk4(&f4, TCP, 50000, L_ANY);
	expect("TCP to wildcard listener: redirect", &f4, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);
	n = mk4(&f4, TCP, 50000, B_NOLISTEN);
	expect("TCP to bound, non-listening port: pass", &f4, n, XDP_PASS);
	n = mk4(&f4, TCP, 50000, L_SHADOW);
	expect("TCP, exact address bound-only, wildcard listening: redirect", &f4, n, XDP_REDIRECT,
	       HXS_XDP_TCP_STEERED);
	n = mk4(&f4, UDP, 50000, U_EXACT);
	expect("UDP to exact-address bind: redirect", &f4, n, XDP_REDIRECT, HXS_XDP_UDP_STEERED);
	n = mk4(&f4, UDP, 50000, U_ANY);
	expect("UDP to wildcard bind: redirect", &f4, n, XDP_REDIRECT, HXS_XDP_UDP_STEERED);
	/* broadcast and multicast destinations: the wildcard bind owns them (the socket layer
	 * then gives every socket on the port a copy); an address-bound port does not, and a
	 * port no socket holds stays the kernel's (which answers with ICMP port unreachable) */
	n = mk4(&f4, UDP, 50000, U_ANY);
	f4.ip.daddr = htonl(0xffffffff);
	csum4(&f4);
	expect("UDP to 255.255.255.255 on a wildcard-bound port: redirect", &f4, n, XDP_REDIRECT,
	       HXS_XDP_UDP_STEERED);
	n = mk4(&f4, UDP, 50000, U_ANY);
	f4.ip.daddr = htonl(0xef010203);       /* 239.1.2.3 */
	csum4(&f4);
	expect("UDP to multicast 239.1.2.3 on a wildcard-bound port: redirect", &f4, n,
	       XDP_REDIRECT, HXS_XDP_UDP_STEERED);
	n = mk4(&f4, UDP, 50000, U_EXACT);
	f4.ip.daddr = htonl(0xef010203);
	csum4(&f4);
	expect("UDP to multicast on a port bound to the unicast address: pass", &f4, n, XDP_PASS);
	n = mk4(&f4, UDP, 50000, OTHER);
	expect("UDP to a port hxs holds no socket on: pass (the kernel's ICMP)", &f4, n, XDP_PASS);
	n = mk4(&f4, UDP, 50000, L_EXACT);
	expect("UDP to a TCP-only port: pass", &f4, n, XDP_PASS);
	n = mk4(&f4, TCP, C_RPORT, C_LPORT);
	expect("TCP of an hxs connection (4-tuple): redirect", &f4, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);
	n = mk4(&f4, TCP, C_RPORT + 1, C_LPORT);
	expect("TCP, same local port, other remote port: pass", &f4, n, XDP_PASS);
	n = mk4(&f4, UDP, UC_RPORT, UC_LPORT);
	expect("UDP of a connected 4-tuple (conn map, no bind): redirect", &f4, n, XDP_REDIRECT,
	       HXS_XDP_UDP_STEERED);
	n = mk4(&f4, UDP, UC_RPORT + 1, UC_LPORT);
	expect("UDP to that local port from another remote port: pass", &f4, n, XDP_PASS);
	n = mk4(&f4, TCP, UC_RPORT, UC_LPORT);
	expect("TCP on the UDP 4-tuple (the protocol is part of the key): pass", &f4, n, XDP_PASS);
	n = mk4(&f4, UDP, UC_RPORT, UC_LPORT);
	f4.l4.udp.len = htons(7);
	expect("malformed UDP of a connected 4-tuple (length 7): drop", &f4, n, XDP_DROP,
	       HXS_XDP_UDP_HDR_ERRORS);
	/* an ephemeral port hxs holds (HXS_MAP_EPH, written through the mapping): TCP to that
	 * address and port only */
	{
		struct hxs_eph_val *eph = NULL;

		CHECK_EQ(hxs_xdp__eph(X, &eph), 0);
		if (eph) {
			n = mk4(&f4, TCP, C_RPORT, EPH);
			expect("TCP to an ephemeral port before its eph entry: pass", &f4, n, XDP_PASS);
			memcpy(eph[EPH].addr, HOST4, 16);
			expect("TCP to an ephemeral port with its eph entry (no conn entry): redirect",
			       &f4, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);
			n = mk4(&f4, TCP, C_RPORT + 7, EPH);
			expect("... from any remote port: redirect", &f4, n, XDP_REDIRECT,
			       HXS_XDP_TCP_STEERED);
			n = mk4(&f4, UDP, C_RPORT, EPH);
			expect("UDP to that port: pass (the entry is TCP's)", &f4, n, XDP_PASS);
			n = mk4(&f4, TCP, C_RPORT, EPH + 1);
			expect("TCP to the next port: pass", &f4, n, XDP_PASS);
			n = mk4(&f4, TCP, C_RPORT, EPH);
			f4.ip.daddr = htonl(HOST + 1);
			csum4(&f4);
			expect("TCP to that port on another local address: pass", &f4, n, XDP_PASS);
			n = mk6(&f6, TCP, C_RPORT, EPH);
			expect("IPv6 TCP to that port (the entry holds the IPv4 address): pass", &f6,
			       n, XDP_PASS);
			memset(eph[EPH].addr, 0, 16);
			n = mk4(&f4, TCP, C_RPORT, EPH);
			expect("TCP to the port once its eph entry is cleared: pass", &f4, n, XDP_PASS);
		}
	}
	n = mk6(&f6, TCP, 50000, V6_T);
	expect("IPv6 TCP to exact-address listener: redirect", &f6, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);
	n = mk6(&f6, UDP, 50000, V6_U);
	expect("IPv6 UDP to :: bind: redirect", &f6, n, XDP_REDIRECT, HXS_XDP_UDP_STEERED);
	n = mk6(&f6, TCP, 50000, L_ANY);
	expect("IPv6 TCP to a port only IPv4-wildcard-bound: pass", &f6, n, XDP_PASS);
	n = mk6(&f6, TCP, 50000, 7777);
	expect("IPv6 TCP not owned: pass", &f6, n, XDP_PASS);
	/* a dual-stack :: listener (sock/socket.c): two entries, :: and 0.0.0.0; IPV6_V6ONLY
	 * leaves only :: */
	CHECK_EQ(hxs_xdp__bind_add(X, ANY6, P16(DUAL), TCP, 12, HXS_BIND_F_LISTEN), 0);
	CHECK_EQ(hxs_xdp__bind_add(X, ANY4, P16(DUAL), TCP, 12, HXS_BIND_F_LISTEN), 0);
	n = mk4(&f4, TCP, 50000, DUAL);
	expect("dual-stack :: listener (:: and 0.0.0.0 entries): IPv4 TCP redirect", &f4, n,
	       XDP_REDIRECT, HXS_XDP_TCP_STEERED);
	n = mk6(&f6, TCP, 50000, DUAL);
	expect("dual-stack :: listener: IPv6 TCP redirect", &f6, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);
	CHECK_EQ(hxs_xdp__bind_del(X, ANY4, P16(DUAL), TCP), 0);
	n = mk4(&f4, TCP, 50000, DUAL);
	expect("IPV6_V6ONLY :: listener (the :: entry only): IPv4 TCP pass", &f4, n, XDP_PASS);
	n = mk6(&f6, TCP, 50000, DUAL);
	expect("IPV6_V6ONLY :: listener: IPv6 TCP redirect", &f6, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);
	CHECK_EQ(hxs_xdp__bind_del(X, ANY6, P16(DUAL), TCP), 0);
	n = mk6(&f6, TCP, 50000, L_EXACT);
	memcpy((uint8_t *)&f6 + sizeof(struct ethhdr) + 24, HOST4, 16);        /* daddr */
	expect("IPv6 to IPv4-mapped ::ffff:10.77.0.2 (an IPv4 listener's key): pass (header error)",
	       &f6, n, XDP_PASS, HXS_XDP_IN_HDR_ERRORS);
	n = mk6x(&f6x, 0 /* hop-by-hop */, TCP, 50000, V6_T);
	f6x.ext[2] = 1;         /* PadN option filling the header */
	f6x.ext[3] = 4;
	expect("IPv6 hop-by-hop header then owned TCP: redirect", &f6x, n, XDP_REDIRECT,
	       HXS_XDP_TCP_STEERED);
	n = mk6x(&f6x, 43 /* routing */, TCP, 50000, V6_T);
	f6x.ext[3] = 1;         /* segments left */
	expect("IPv6 routing header with segments left: pass", &f6x, n, XDP_PASS);
	n = mk6x(&f6x, ROUTING, TCP, 50000, V6_T);
	expect("IPv6 routing header, segments left 0 (we are the final hop), owned TCP: redirect",
	       &f6x, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);
	n = mk6x(&f6x, DSTOPTS, TCP, 50000, V6_T);
	f6x.ext[2] = 1;         /* PadN filling the header */
	f6x.ext[3] = 4;
	expect("IPv6 destination-options header then owned TCP: redirect", &f6x, n, XDP_REDIRECT,
	       HXS_XDP_TCP_STEERED);
	n = mk6x(&f6x, DSTOPTS, UDP, 50000, V6_U);
	expect("IPv6 destination-options header then owned UDP: redirect", &f6x, n, XDP_REDIRECT,
	       HXS_XDP_UDP_STEERED);
	n = mk6x(&f6x, DSTOPTS, TCP, 50000, OTHER);
	expect("IPv6 destination-options header then TCP, not owned: pass", &f6x, n, XDP_PASS);
	{
		/* RFC 8200 section 4.1 order: hop-by-hop, destination options, routing, fragment
		 * (atomic), destination options; lengths of 8, 16 and 24 bytes */
		static const uint8_t t5[] = { HOP, DSTOPTS, ROUTING, 44, DSTOPTS };
		static const uint16_t l5[] = { 8, 16, 24, 8, 8 };
		static const uint8_t t6[] = { DSTOPTS, DSTOPTS, DSTOPTS, DSTOPTS, DSTOPTS, DSTOPTS };
		static const uint16_t l6[] = { 8, 8, 8, 8, 8, 8 };

		n = mk6chain(buf, t5, l5, 5, UDP, 50000, V6_U);
		expect("IPv6 chain hop-by-hop, dest-opts (16 B), routing (24 B, 0 left), atomic "
		       "fragment, dest-opts, then owned UDP: redirect", buf, n, XDP_REDIRECT,
		       HXS_XDP_UDP_STEERED);
		n = mk6chain(buf, t5, l5, 5, TCP, 50000, V6_T);
		buf[14 + 40 + 8 + 16 + 3] = 2;  /* the routing header's segments left */
		expect("the same chain, routing header with 2 segments left: pass", buf, n, XDP_PASS);
		n = mk6chain(buf, t6, l6, 5, TCP, 50000, V6_T);
		expect("five destination-options headers then owned TCP: redirect", buf, n,
		       XDP_REDIRECT, HXS_XDP_TCP_STEERED);
		n = mk6chain(buf, t6, l6, 6, TCP, 50000, V6_T);
		expect("six extension headers (past the parser's walk of IPV6_MAX_EXT): pass to the "
		       "kernel", buf, n, XDP_PASS);
		n = mk6chain(buf, t6, l6, 2, UDP, 50000, V6_U);
		buf[14 + 40 + 8 + 1] = 6;       /* the second claims 56 bytes: 44 are left */
		expect("destination-options header longer than the payload: pass (truncated)", buf,
		       n, XDP_PASS, HXS_XDP_IN_TRUNCATED);
	}
	n = mk6(&f6, TCP, 50000, V6_T);
	expect_on(X_NO6, "IPv6 owned, program set not to serve IPv6: pass", &f6, n, XDP_PASS, -1);
	n = mk4(&f4, TCP, 50000, L_EXACT);
	expect_on(X_NO6, "IPv4 still steered when IPv6 is off: redirect", &f4, n, XDP_REDIRECT,
		  HXS_XDP_TCP_STEERED, -1);
	n = tag(buf, &f4, mk4(&f4, TCP, 50000, L_EXACT), ETH_P_8021Q);
	expect("802.1Q-tagged owned TCP: redirect", buf, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED,
	       HXS_XDP_VLAN);
	n = tag(buf, &f4, mk4(&f4, UDP, 50000, U_ANY), ETH_P_8021AD);
	expect("802.1ad-tagged owned UDP: redirect", buf, n, XDP_REDIRECT, HXS_XDP_UDP_STEERED,
	       HXS_XDP_VLAN);
	n = tag(buf, &f4, mk4(&f4, TCP, 50000, OTHER), ETH_P_8021Q);
	expect("802.1Q-tagged TCP, other port: pass", buf, n, XDP_PASS, HXS_XDP_VLAN);
	n = mk4(&f4, TCP, 50000, L_EXACT);
	memcpy(buf, &f4, sizeof(f4));
	memset(buf + sizeof(f4), 0, 10);        /* Ethernet padding after the datagram */
	expect("owned TCP followed by link padding: redirect", buf, sizeof(f4) + 10, XDP_REDIRECT,
	       HXS_XDP_TCP_STEERED);

	/* --- everything else goes to the kernel ---------------------------------------------- */
	memset(&arp, 0, sizeof(arp));
	mk_eth((void *)&arp, ETH_P_ARP);
	expect("ARP: pass", &arp, sizeof(arp), XDP_PASS, HXS_XDP_NON_IP);
	mk_eth((void *)&arp, 0x88cc);
	expect("unknown ethertype (LLDP): pass", &arp, sizeof(arp), XDP_PASS, HXS_XDP_NON_IP);
	n = mk4(&f4, IPPROTO_ICMP, 0, 0);
	f4.l4.tcp.source = htons(0x0800);       /* echo request, type 8 code 0 */
	expect("ICMP echo: pass", &f4, n, XDP_PASS);
	n = mk6(&f6, 58 /* ICMPv6 */, 0, 0);
	expect("ICMPv6: pass", &f6, n, XDP_PASS);
	n = mk4(&f4, TCP, 50000, OTHER);
	expect("TCP to a port hxs does not own: pass", &f4, n, XDP_PASS);
	n = mk4(&f4, UDP, 50000, 53);
	expect("UDP to a port hxs does not own: pass", &f4, n, XDP_PASS);
	n = tag(buf + 100, &f4, mk4(&f4, TCP, 50000, L_EXACT), ETH_P_8021Q);
	n = tag(buf, buf + 100, n, ETH_P_8021AD);
	expect("QinQ (two tags): pass as non-IP", buf, n, XDP_PASS, HXS_XDP_VLAN, HXS_XDP_NON_IP);

	/* --- no socket on the queue ---------------------------------------------------------- */
	CHECK_EQ(hxs_xdp__xsk_clear(X, 0), 0);
	n = mk4(&f4, TCP, 50000, L_EXACT);
	expect("owned TCP, no AF_XDP socket on the queue: pass", &f4, n, XDP_PASS, HXS_XDP_NO_SOCKET);
	n = mk4(&f4, UDP, 50000, U_EXACT);
	expect("owned UDP, no AF_XDP socket on the queue: pass", &f4, n, XDP_PASS, HXS_XDP_NO_SOCKET);
	CHECK_EQ(hxs_xdp__xsk_set(X, 0, xsk), 0);

	/* --- malformed, owner unknown: pass and count ---------------------------------------- */
	n = mk4(&f4, TCP, 50000, L_EXACT);
	expect("Ethernet header only, IPv4 ethertype: pass (truncated)", &f4, 14, XDP_PASS,
	       HXS_XDP_IN_TRUNCATED);
	n = tag(buf, &f4, n, ETH_P_8021Q);
	expect("VLAN tag cut short: pass (truncated)", buf, 15, XDP_PASS, HXS_XDP_VLAN,
	       HXS_XDP_IN_TRUNCATED);
	expect("IPv4 header cut short: pass (truncated)", &f4, 14 + 12, XDP_PASS, HXS_XDP_IN_TRUNCATED);
	n = mk6(&f6, TCP, 50000, V6_T);
	expect("IPv6 header cut short: pass (truncated)", &f6, 14 + 30, XDP_PASS, HXS_XDP_IN_TRUNCATED);
	n = mk4(&f4, TCP, 50000, L_EXACT);
	f4.ip.version = 5;
	expect("IPv4 version 5: pass (header error)", &f4, n, XDP_PASS, HXS_XDP_IN_HDR_ERRORS);
	n = mk6(&f6, TCP, 50000, V6_T);
	f6.ip6.version = 4;
	expect("IPv6 ethertype, version 4: pass (header error)", &f6, n, XDP_PASS, HXS_XDP_IN_HDR_ERRORS);
	n = mk4(&f4, TCP, 50000, L_EXACT);
	f4.ip.ihl = 4;
	expect("IPv4 IHL 4: pass (header error)", &f4, n, XDP_PASS, HXS_XDP_IN_HDR_ERRORS);
	n = mk4(&f4, TCP, 50000, L_EXACT);
	f4.ip.ihl = 15;         /* 60-byte header, but the frame ends 56 bytes after IP starts */
	expect("IPv4 options past the frame: pass (truncated)", &f4, n, XDP_PASS, HXS_XDP_IN_TRUNCATED);
	n = mk4(&f4, TCP, 50000, L_EXACT);
	f4.ip.tot_len = htons(sizeof(f4.ip) + L4LEN + 1);
	expect("IPv4 total length > frame: pass (truncated)", &f4, n, XDP_PASS, HXS_XDP_IN_TRUNCATED);
	n = mk4(&f4, TCP, 50000, L_EXACT);
	f4.ip.tot_len = htons(19);
	expect("IPv4 total length < header length: pass (header error)", &f4, n, XDP_PASS,
	       HXS_XDP_IN_HDR_ERRORS);
	n = mk6(&f6, TCP, 50000, V6_T);
	f6.ip6.payload_len = htons(L4LEN + 1);
	expect("IPv6 payload length > frame: pass (truncated)", &f6, n, XDP_PASS, HXS_XDP_IN_TRUNCATED);
	n = mk4(&f4, TCP, 50000, L_EXACT);
	expect("TCP header cut short: pass (truncated)", &f4, 14 + 20 + 12, XDP_PASS,
	       HXS_XDP_IN_TRUNCATED);
	n = mk4(&f4, TCP, 50000, L_EXACT);
	f4.ip.tot_len = htons(20 + 12);         /* frame long enough, datagram not */
	expect("TCP header beyond the IPv4 total length: pass (truncated)", &f4, n, XDP_PASS,
	       HXS_XDP_IN_TRUNCATED);
	n = mk4(&f4, UDP, 50000, U_EXACT);
	expect("UDP header cut short: pass (truncated)", &f4, 14 + 20 + 6, XDP_PASS,
	       HXS_XDP_IN_TRUNCATED);
	n = mk6x(&f6x, 0, TCP, 50000, V6_T);
	f6x.ext[1] = 3;         /* claims 32 bytes, the payload has 44 but the frame ends */
	expect("IPv6 extension header past the frame: pass (truncated)", &f6x, 14 + 40 + 20, XDP_PASS,
	       HXS_XDP_IN_TRUNCATED);

	/* --- malformed, owned: drop and count ------------------------------------------------ */
	n = mk4(&f4, TCP, 50000, L_EXACT);
	f4.l4.tcp.doff = 4;
	expect("owned TCP, data offset 4: drop", &f4, n, XDP_DROP, HXS_XDP_TCP_HDR_ERRORS);
	n = mk4(&f4, TCP, C_RPORT, C_LPORT);
	f4.l4.tcp.doff = 10;    /* 40 bytes, the segment has 36 */
	expect("owned TCP, data offset past the segment: drop", &f4, n, XDP_DROP,
	       HXS_XDP_TCP_HDR_ERRORS);
	n = mk4(&f4, TCP, 50000, OTHER);
	f4.l4.tcp.doff = 4;
	expect("not-owned TCP, data offset 4: pass (the kernel's)", &f4, n, XDP_PASS);
	n = mk4(&f4, UDP, 50000, U_EXACT);
	f4.l4.udp.len = htons(7);
	expect("owned UDP, length 7: drop", &f4, n, XDP_DROP, HXS_XDP_UDP_HDR_ERRORS);
	n = mk4(&f4, UDP, 50000, U_ANY);
	f4.l4.udp.len = htons(L4LEN + 1);
	expect("owned UDP, length past the datagram: drop", &f4, n, XDP_DROP, HXS_XDP_UDP_HDR_ERRORS);
	n = mk6(&f6, UDP, 50000, V6_U);
	f6.l4.udp.len = htons(L4LEN + 8);
	expect("owned IPv6 UDP, length past the datagram: drop", &f6, n, XDP_DROP,
	       HXS_XDP_UDP_HDR_ERRORS);

	/* --- fragments ----------------------------------------------------------------------- */
	n = mk4(&f4, UDP, 50000, U_EXACT);
	f4.ip.frag_off = htons(0x2000);         /* MF, offset 0 */
	f4.ip.id = htons(0x4242);
	csum4(&f4);
	expect("first IPv4 fragment of owned UDP: drop", &f4, n, XDP_DROP, HXS_XDP_FRAG_DROPS);
	f4.ip.frag_off = htons(5);              /* offset 40 bytes, last fragment */
	csum4(&f4);
	expect("later IPv4 fragment of that datagram: drop", &f4, n, XDP_DROP, HXS_XDP_FRAG_DROPS);
	f4.ip.id = htons(0x4243);
	csum4(&f4);
	expect("later IPv4 fragment of an unknown datagram: pass", &f4, n, XDP_PASS);
	n = mk4(&f4, UDP, 50000, 53);
	f4.ip.frag_off = htons(0x2000);
	csum4(&f4);
	expect("first IPv4 fragment, not owned: pass", &f4, n, XDP_PASS);
	n = mk4(&f4, TCP, 50000, L_ANY);
	f4.ip.frag_off = htons(0x2000);
	f4.ip.id = htons(0x77);
	csum4(&f4);
	expect("first IPv4 fragment of owned TCP: drop", &f4, n, XDP_DROP, HXS_XDP_FRAG_DROPS);
	n = mk6x(&f6x, 44, UDP, 50000, V6_U);
	f6x.ext[3] = 1;                         /* offset 0, M */
	memcpy(f6x.ext + 4, "\0\0\x12\x34", 4); /* identification */
	expect("IPv6 fragment header, first fragment of owned UDP: drop", &f6x, n, XDP_DROP,
	       HXS_XDP_FRAG_DROPS);
	f6x.ext[2] = 0;
	f6x.ext[3] = 5 << 3;                    /* offset 40, last */
	expect("IPv6 later fragment of that datagram: drop", &f6x, n, XDP_DROP, HXS_XDP_FRAG_DROPS);
	f6x.ext[7] = 0x35;
	expect("IPv6 later fragment of an unknown datagram: pass", &f6x, n, XDP_PASS);
	n = mk6x(&f6x, 44, TCP, 50000, V6_T);   /* offset 0, M clear */
	expect("IPv6 atomic fragment (RFC 6946) of owned TCP: redirect", &f6x, n, XDP_REDIRECT,
	       HXS_XDP_TCP_STEERED);

	/* --- multi-buffer (xdp.frags) frames: lengths checked against the whole frame ------- */
	{
		static uint8_t big[9000];
		struct f4 *h = (struct f4 *)big;
		uint16_t tot = sizeof(big) - sizeof(struct ethhdr);
		uint16_t ulen = tot - sizeof(struct iphdr);
		uint8_t *ip = big + sizeof(struct ethhdr), *l4 = ip + sizeof(struct iphdr);

		mk4(h, UDP, 50000, U_EXACT);
		h->ip.tot_len = htons(tot);
		h->l4.udp.len = htons(ulen);
		for (size_t i = sizeof(*h); i < sizeof(big); i++)
			big[i] = (uint8_t)i;
		h->ip.check = 0;
		h->ip.check = fold(sum16(ip, sizeof(struct iphdr), 0));
		l4_csum(UDP, ip + 12, ip + 16, 4, l4, ulen);
		/* test_run splits a frame above one page into a linear part and fragments (here
		 * for a program without the frags flag too): every length check must use the
		 * whole frame (bpf_xdp_get_buff_len), not data_end */
		expect_on(X, "9000-byte owned UDP, program without frags flag: redirect", big, sizeof(big),
			  XDP_REDIRECT, HXS_XDP_UDP_STEERED, -1);
		expect_on(X_FRAGS, "9000-byte owned UDP, frags program: redirect", big, sizeof(big),
			  XDP_REDIRECT, HXS_XDP_UDP_STEERED, -1);
		h->ip.tot_len = htons(tot + 1);
		expect_on(X_FRAGS, "9000-byte frame, total length 1 past it: pass (truncated)", big,
			  sizeof(big), XDP_PASS, HXS_XDP_IN_TRUNCATED, -1);
		h->ip.tot_len = htons(tot);
		h->l4.udp.len = htons(ulen + 1);
		expect_on(X_FRAGS, "9000-byte owned UDP, length 1 past the datagram: drop", big,
			  sizeof(big), XDP_DROP, HXS_XDP_UDP_HDR_ERRORS, -1);
	}

	/* --- bookkeeping --------------------------------------------------------------------- */
	t_case("every frame got exactly one verdict counter");
	{
		__u64 v[HXS_XDP_STAT_MAX];

		CHECK_EQ(hxs_xdp__stats(X, v), 0);
		CHECK(v[HXS_XDP_IN_RECEIVES] > 40, "%llu frames", (unsigned long long)v[0]);
		CHECK_EQ(v[HXS_XDP_IN_RECEIVES], v[HXS_XDP_PASSED] + v[HXS_XDP_DROPPED] +
							 v[HXS_XDP_TCP_STEERED] + v[HXS_XDP_UDP_STEERED]);
	}
	t_case("bind_del and conn_del stop steering");
	{
		__u64 d[HXS_XDP_STAT_MAX];

		CHECK_EQ(hxs_xdp__bind_del(X, HOST4, P16(L_EXACT), TCP), 0);
		CHECK_EQ(hxs_xdp__conn_del(X, HOST4, P16(C_LPORT), PEER4, P16(C_RPORT), TCP), 0);
		n = mk4(&f4, TCP, 50000, L_EXACT);
		CHECK_EQ(run_on(X, &f4, n, d), XDP_PASS);
		n = mk4(&f4, TCP, C_RPORT, C_LPORT);
		CHECK_EQ(run_on(X, &f4, n, d), XDP_PASS);
		CHECK_EQ(hxs_xdp__bind_del(X, HOST4, P16(L_EXACT), TCP), -ENOENT);
	}
	hxs_xdp__close(X_FRAGS);
	hxs_xdp__close(X_NO6);
	hxs_xdp__close(X);
	close(xsk);
	return t_done();
}
