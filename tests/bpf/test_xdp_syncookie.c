/* test_xdp_syncookie.c - SYN cookies in the XDP program (bpf_prog_test_run_opts, no interface):
 * a SYN to a listener under SYN pressure comes back as the exact cookie SYN-ACK (XDP_TX) with
 * checksums that verify; valid cookie ACKs are redirected, invalid ones dropped; everything
 * that is not a cookie matter is steered as before. Each case asserts the verdict and the
 * exact delta of every counter.
 *
 * IPv6 the same way (the SYN-ACK's IPv6 header exact, its TCP checksum verified over the
 * IPv6 pseudo-header here, not by the code that made it), and the metadata of a redirected
 * cookie ACK carries HXS_META_F_COOKIE. Then the program against the TCP core (the same key
 * in both): an IPv6 cookie the program made validates in the core by the core's own check,
 * and one the core made validates in the program.
 *
 * main() -> setup (hxs_xdp__open(NULL), the verifier's instruction count, secret into
 *           hxs_cookie, bind entries, AF_XDP socket)
 *        -> frame builders (mk: IPv4, mk6: IPv6) -> run() -> counter deltas, output bytes,
 *           metadata
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include "check.h"
#include "hxs/syncookie.h"
#include "hxs/xdp.h"
#include "tcp/tcp.h"
#include "tcp/tcp_conn.h"          /* HXS_TCPS_* */

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

static const char *const stat_names[] = HXS_XDP_STAT_NAMES;
static struct hxs_xdp *X;
static const uint32_t HOST = 0x0a4e0002, PEER = 0x0a4e0001;     /* 10.78.0.2, 10.78.0.1 */
enum { L_COOKIE = 8080, L_PLAIN = 8081, L_NOPARAM = 8082, C_LPORT = 8080, C_RPORT = 41000 };
/* fd00:4e::2 (ours), fd00:4e::1 (the peer) */
static const uint8_t HOST6[16] = { 0xfd, 0, 0, 0x4e, [15] = 2 };
static const uint8_t PEER6[16] = { 0xfd, 0, 0, 0x4e, [15] = 1 };
static struct hxs_cookie_secret SEC;
static uint8_t out[4096];
static uint32_t out_len;
static struct hxs_xdp_meta out_meta;   /* a redirect's metadata (out_metalen bytes of it) */
static uint32_t out_metalen;

static uint32_t sum16(const uint8_t *b, size_t n, uint32_t s)
{
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
	return (uint16_t)~s;
}
static uint64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* Ethernet [+ 802.1Q tag] + IPv4 PEER:sport -> HOST:dport + TCP with opts, checksums right. */
static size_t mk(uint8_t *f, int vlan, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		 uint8_t flags, const uint8_t *opts, size_t olen, size_t payload)
{
	static const uint8_t h[6] = { 2, 0, 0, 0, 0, 2 }, k[6] = { 2, 0, 0, 0, 0, 1 };
	size_t l3 = vlan ? 18 : 14, tl = 20 + olen + payload;
	uint8_t *ip = f + l3, *th = ip + 20;
	uint32_t s;

	memset(f, 0, l3 + 20 + tl);
	memcpy(f, h, 6);
	memcpy(f + 6, k, 6);
	if (vlan) {
		f[12] = 0x81; f[13] = 0x00; f[14] = 0x00; f[15] = 100;
	}
	f[l3 - 2] = 0x08;
	f[l3 - 1] = 0x00;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + tl) >> 8); ip[3] = (uint8_t)(20 + tl);
	ip[4] = 0x12; ip[5] = 0x34;
	ip[8] = 64;
	ip[9] = 6;
	*(uint32_t *)(ip + 12) = htonl(PEER);
	*(uint32_t *)(ip + 16) = htonl(HOST);
	s = fold(sum16(ip, 20, 0));
	ip[10] = (uint8_t)(s >> 8); ip[11] = (uint8_t)s;
	th[0] = (uint8_t)(sport >> 8); th[1] = (uint8_t)sport;
	th[2] = (uint8_t)(dport >> 8); th[3] = (uint8_t)dport;
	hxs_sc_put32(th + 4, seq);
	hxs_sc_put32(th + 8, ack);
	th[12] = (uint8_t)(((20 + olen) / 4) << 4);
	th[13] = flags;
	th[14] = 0xff; th[15] = 0xff;
	memcpy(th + 20, opts, olen);
	for (size_t i = 0; i < payload; i++)
		th[20 + olen + i] = (uint8_t)i;
	s = fold(sum16(th, tl, sum16(ip + 12, 8, 6 + (uint32_t)tl)));
	th[16] = (uint8_t)(s >> 8); th[17] = (uint8_t)s;
	return l3 + 20 + tl;
}

/* Ethernet + IPv6 PEER6:sport -> HOST6:dport (no extension headers) + TCP with opts. */
static size_t mk6(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		  uint8_t flags, const uint8_t *opts, size_t olen, size_t payload)
{
	static const uint8_t h[6] = { 2, 0, 0, 0, 0, 2 }, k[6] = { 2, 0, 0, 0, 0, 1 };
	size_t tl = 20 + olen + payload;
	uint8_t *ip = f + 14, *th = ip + 40;
	uint32_t s;

	memset(f, 0, 14 + 40 + tl);
	memcpy(f, h, 6);
	memcpy(f + 6, k, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	ip[0] = 0x60;
	ip[1] = 0x01;                       /* a flow label the SYN-ACK must not keep */
	ip[4] = (uint8_t)(tl >> 8); ip[5] = (uint8_t)tl;
	ip[6] = 6;
	ip[7] = 57;
	memcpy(ip + 8, PEER6, 16);
	memcpy(ip + 24, HOST6, 16);
	th[0] = (uint8_t)(sport >> 8); th[1] = (uint8_t)sport;
	th[2] = (uint8_t)(dport >> 8); th[3] = (uint8_t)dport;
	hxs_sc_put32(th + 4, seq);
	hxs_sc_put32(th + 8, ack);
	th[12] = (uint8_t)(((20 + olen) / 4) << 4);
	th[13] = flags;
	th[14] = 0xff; th[15] = 0xff;
	memcpy(th + 20, opts, olen);
	for (size_t i = 0; i < payload; i++)
		th[20 + olen + i] = (uint8_t)i;
	/* RFC 8200 §8.1: source, destination, upper-layer length, next header */
	s = fold(sum16(th, tl, sum16(ip + 8, 32, 6 + (uint32_t)tl)));
	th[16] = (uint8_t)(s >> 8); th[17] = (uint8_t)s;
	return 14 + 40 + tl;
}

static int run(const void *pkt, size_t len, __u64 d[HXS_XDP_STAT_MAX])
{
	__u64 a[HXS_XDP_STAT_MAX], b[HXS_XDP_STAT_MAX];
	struct xdp_md ci = { .data_end = (__u32)len }, co = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ci,
		    .ctx_size_in = sizeof(ci), .ctx_out = &co, .ctx_size_out = sizeof(co),
		    .repeat = 1);
	int err;

	if (hxs_xdp__stats(X, a))
		return -1;
	err = bpf_prog_test_run_opts(hxs_xdp__prog_fd(X), &o);
	if (err)
		return err;
	if (hxs_xdp__stats(X, b))
		return -1;
	for (int i = 0; i < HXS_XDP_STAT_MAX; i++)
		d[i] = b[i] - a[i];
	/* test_run hands back the frame from data_meta on: the frame alone goes to out[] */
	out_metalen = co.data - co.data_meta;
	memset(&out_meta, 0, sizeof(out_meta));
	if (out_metalen == sizeof(out_meta))
		memcpy(&out_meta, out + co.data_meta, sizeof(out_meta));
	out_len = o.data_size_out - out_metalen;
	memmove(out, out + out_metalen, out_len);
	return (int)o.retval;
}

/* Runs pkt: the verdict, and exactly the listed counters (besides InReceives) moved by one. */
static void expect_(const void *pkt, size_t len, int verdict, ...)
{
	__u64 d[HXS_XDP_STAT_MAX], want[HXS_XDP_STAT_MAX] = { [HXS_XDP_IN_RECEIVES] = 1 };
	va_list ap;
	int s, rc;

	va_start(ap, verdict);
	while ((s = va_arg(ap, int)) >= 0)
		want[s]++;
	va_end(ap);
	rc = run(pkt, len, d);
	CHECK_EQ(rc, verdict);
	for (int i = 0; i < HXS_XDP_STAT_MAX; i++)
		if (rc >= 0 && !CHECK(d[i] == want[i], "%s moved by %llu, expected %llu", stat_names[i],
				       (unsigned long long)d[i], (unsigned long long)want[i]))
			break;
}
#define expect(pkt, len, verdict, ...) expect_(pkt, len, verdict, ##__VA_ARGS__, -1)

static int make_xsk(void)
{
	struct xdp_umem_reg mr = { .len = 16 * 4096, .chunk_size = 4096 };
	int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0), n = 64;
	void *umem;

	if (fd < 0)
		return -errno;
	umem = mmap(NULL, mr.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (umem == MAP_FAILED)
		return -errno;
	mr.addr = (__u64)(unsigned long)umem;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof(n)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &n, sizeof(n)) ||
	    setsockopt(fd, SOL_XDP, XDP_RX_RING, &n, sizeof(n)))
		return -errno;
	return fd;
}

static int put_secret(void)
{
	__u32 zero = 0;

	return bpf_map_update_elem(hxs_xdp__map_fd(X, HXS_MAP_COOKIE), &zero, &SEC, BPF_ANY);
}

static const struct hxs_sc_tuple TUP = { .raddr = 0, .laddr = 0, .rport = 50000, .lport = L_COOKIE };

/* The SYN-ACK in out[] answers a SYN sent at [s0, s1] (seconds) with ISN isn: addresses and
 * MACs swapped, IPv4 header exact, the TCP header what hxs_sc_synack() makes for the cookie
 * and TSval it carries (the cookie checked against the time, the TSval's option bits). */
static void check_synack(int vlan, const struct hxs_sc_syn *syn, const struct hxs_sc_local *loc,
			 uint64_t s0, uint64_t s1, uint32_t want_tcp_len)
{
	size_t l3 = vlan ? 18 : 14;
	uint8_t *ip = out + l3, *th = ip + 20, want[40];
	struct hxs_sc_tuple t = TUP;
	uint32_t cookie, tsval = 0, n;

	t.raddr = htonl(PEER);
	t.laddr = htonl(HOST);
	CHECK_EQ(out_len, l3 + 20 + want_tcp_len);
	CHECK(out[5] == 1 && out[11] == 2, "MACs swapped");
	if (vlan)
		CHECK(out[12] == 0x81 && out[15] == 100, "tag kept");
	CHECK(ip[0] == 0x45 && ip[1] == 0, "version, IHL, TOS");
	CHECK_EQ(ip[2] << 8 | ip[3], 20 + want_tcp_len);
	CHECK(ip[4] == 0 && ip[5] == 0 && ip[6] == 0x40 && ip[7] == 0, "ID 0, DF");
	CHECK(ip[8] == 64 && ip[9] == 6, "TTL, protocol");
	CHECK_EQ(*(uint32_t *)(ip + 12), htonl(HOST));
	CHECK_EQ(*(uint32_t *)(ip + 16), htonl(PEER));
	CHECK_EQ(fold(sum16(ip, 20, 0)), 0);
	CHECK_EQ(fold(sum16(th, want_tcp_len, sum16(ip + 12, 8, 6 + want_tcp_len))), 0);
	cookie = (uint32_t)th[4] << 24 | th[5] << 16 | th[6] << 8 | th[7];
	CHECK(cookie == hxs_sc_make(&SEC, &t, syn->isn, s0, hxs_sc_mss_index(syn->has_mss ? syn->mss : 536)) ||
	      cookie == hxs_sc_make(&SEC, &t, syn->isn, s1, hxs_sc_mss_index(syn->has_mss ? syn->mss : 536)),
	      "cookie %08x", cookie);
	CHECK(hxs_sc_check(&SEC, &t, syn->isn, cookie, s1) >= 0);
	if (want_tcp_len > 24 && th[26] == 8)
		tsval = (uint32_t)th[28] << 24 | th[29] << 16 | th[30] << 8 | th[31];
	n = hxs_sc_synack(want, &t, syn, loc, cookie, tsval);
	CHECK_EQ(n, want_tcp_len);
	CHECK(memcmp(th, want, n) == 0, "TCP header differs from hxs_sc_synack()");
}

/* The IPv6 SYN-ACK in out[]: MACs swapped, the IPv6 header exact (traffic class and flow
 * label 0, payload length, next header TCP, hop limit 64, addresses swapped), the TCP checksum
 * right over the IPv6 pseudo-header (summed here), the header what hxs_sc_synack() makes. */
static void check_synack6(const struct hxs_sc_syn *syn, const struct hxs_sc_local *loc,
			  uint64_t s0, uint64_t s1, uint32_t want_tcp_len)
{
	static const uint8_t v6hdr[8] = { 0x60, 0, 0, 0, 0, 0, 6, 64 };
	uint8_t *ip = out + 14, *th = ip + 40, want[40], hdr[8];
	struct hxs_sc_tuple t = { .rport = 50000, .lport = L_COOKIE, .v6 = 1 };
	uint32_t cookie, tsval = 0, n, idx = hxs_sc_mss_index(syn->has_mss ? syn->mss : 536);

	memcpy(t.raddr6, PEER6, 16);
	memcpy(t.laddr6, HOST6, 16);
	CHECK_EQ(out_len, 14 + 40 + want_tcp_len);
	CHECK(out[5] == 1 && out[11] == 2 && out[12] == 0x86 && out[13] == 0xdd, "MACs swapped");
	memcpy(hdr, v6hdr, 8);
	hdr[5] = (uint8_t)want_tcp_len;
	CHECK(memcmp(ip, hdr, 8) == 0, "IPv6 header %02x%02x%02x%02x len %u nh %u hlim %u", ip[0],
	      ip[1], ip[2], ip[3], ip[4] << 8 | ip[5], ip[6], ip[7]);
	CHECK(memcmp(ip + 8, HOST6, 16) == 0 && memcmp(ip + 24, PEER6, 16) == 0, "addresses swapped");
	CHECK_EQ(fold(sum16(th, want_tcp_len, sum16(ip + 8, 32, 6 + want_tcp_len))), 0);
	cookie = (uint32_t)th[4] << 24 | th[5] << 16 | th[6] << 8 | th[7];
	CHECK(cookie == hxs_sc_make(&SEC, &t, syn->isn, s0, idx) ||
	      cookie == hxs_sc_make(&SEC, &t, syn->isn, s1, idx), "cookie %08x", cookie);
	CHECK_EQ(hxs_sc_check(&SEC, &t, syn->isn, cookie, s1), (int)idx);
	if (want_tcp_len > 24 && th[26] == 8)
		tsval = (uint32_t)th[28] << 24 | th[29] << 16 | th[30] << 8 | th[31];
	n = hxs_sc_synack(want, &t, syn, loc, cookie, tsval);
	CHECK_EQ(n, want_tcp_len);
	CHECK(memcmp(th, want, n) == 0, "TCP header differs from hxs_sc_synack()");
}

/* The TCP core of the cross check: what it sent last. */
static uint8_t core_buf[2048], core_seg[2048];
static uint32_t core_len, core_sent;
static struct hxs_addr core_sa, core_da;

static uint8_t *core_alloc(void *ctx, uint32_t len, void **h)
{
	(void)ctx;
	if (len > sizeof(core_buf))
		return NULL;
	*h = core_buf;
	return core_buf;
}

static void core_send(void *ctx, void *h, struct hxs_addr sa, struct hxs_addr da, uint32_t len,
		      uint8_t tos, uint8_t ttl)
{
	(void)ctx; (void)tos; (void)ttl;
	memcpy(core_seg, h, len);
	core_len = len;
	core_sa = sa;
	core_da = da;
	core_sent++;
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Frame f's TCP segment (IPv6, no extension headers) into the core from PEER6 to HOST6. */
static int core_in(struct hxs_tcp *tcp, const uint8_t *f, size_t n, unsigned flags)
{
	return hxs_tcp__input_addr(tcp, hxs_addr6(PEER6), hxs_addr6(HOST6), f + 54,
				   (uint32_t)(n - 54), flags, mono_us());
}

/* RFC 4987 §3.6 across the two halves: the program and the core hold one key, so an ACK to
 * a cookie either made opens the connection through the other. The core checks the cookie
 * itself here (no HXS_TCP_IN_COOKIE_OK): the MAC over the IPv6 tuple must be the same. */
static void cross_check6(void)
{
	static const struct hxs_tcp_tx_ops tx = { .alloc = core_alloc, .send = core_send };
	static const struct hxs_tcp_ev_ops ev = { 0 };
	struct hxs_tcp_cfg cfg = { .max_syn_backlog = 1 };
	struct hxs_tcp_conn *l, *c;
	struct hxs_tcp *tcp;
	const uint64_t *mib;
	uint8_t f[256];
	uint32_t cookie;
	size_t n;
	int i;

	t_case("IPv6 cross check setup: a core with the program's key, a backlog-1 listener on "
	       "the cookie port, its queue full");
	if (!CHECK_EQ(hxs_tcp__new(&tcp, &cfg, &tx, &ev, NULL, mono_us()), 0))
		return;
	mib = hxs_tcp__mib(tcp);
	hxs_tcp__set_cookie_secret(tcp, &SEC);
	CHECK_EQ(hxs_tcp_conn__new(tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen_addr(l, hxs_addr6(HOST6), L_COOKIE, 1, 16), 0);
	n = mk6(f, 50100, L_COOKIE, 100, 0, 0x02, NULL, 0, 0);
	CHECK_EQ(core_in(tcp, f, n, 0), 0);
	CHECK_EQ(mib[HXS_TCP_MIB_SyncookiesSent], 0);              /* queued */

	t_case("IPv6: the core's cookie SYN-ACK (checksum over the IPv6 pseudo-header) validates "
	       "in the program: redirect with HXS_META_F_COOKIE; the core opens it");
	core_sent = 0;
	n = mk6(f, 50150, L_COOKIE, 9000, 0, 0x02, NULL, 0, 0);
	CHECK_EQ(core_in(tcp, f, n, 0), 0);
	CHECK_EQ(mib[HXS_TCP_MIB_SyncookiesSent], 1);
	CHECK_EQ(core_sent, 1);
	CHECK(hxs_addr_eq(core_sa, hxs_addr6(HOST6)) && hxs_addr_eq(core_da, hxs_addr6(PEER6)),
	      "SYN-ACK from HOST6 to PEER6");
	CHECK_EQ(core_len, 24);
	CHECK_EQ(core_seg[13], 0x12);
	CHECK_EQ(fold(sum16(core_seg, core_len, sum16(HOST6, 16, sum16(PEER6, 16, 6 + core_len)))), 0);
	cookie = (uint32_t)core_seg[4] << 24 | core_seg[5] << 16 | core_seg[6] << 8 | core_seg[7];
	n = mk6(f, 50150, L_COOKIE, 9001, cookie + 1, 0x10, NULL, 0, 0);
	expect(f, n, XDP_REDIRECT, HXS_XDP_SYN_COOKIES_VALID, HXS_XDP_TCP_STEERED);
	CHECK_EQ(out_meta.flags, HXS_META_F_COOKIE);
	CHECK_EQ(core_in(tcp, f, n, HXS_TCP_IN_COOKIE_OK), 0);
	CHECK_EQ(mib[HXS_TCP_MIB_SyncookiesRecv], 1);

	t_case("IPv6: the program's cookie SYN-ACK validates in the core by the core's own check");
	n = mk6(f, 50200, L_COOKIE, 7000, 0, 0x02, NULL, 0, 0);
	expect(f, n, XDP_TX, HXS_XDP_SYN_COOKIES_SENT);
	cookie = (uint32_t)out[58] << 24 | out[59] << 16 | out[60] << 8 | out[61];
	n = mk6(f, 50200, L_COOKIE, 7001, cookie + 2, 0x10, NULL, 0, 0);   /* forged first */
	core_in(tcp, f, n, 0);
	CHECK_EQ(mib[HXS_TCP_MIB_SyncookiesFailed], 1);
	CHECK_EQ(mib[HXS_TCP_MIB_SyncookiesRecv], 1);
	n = mk6(f, 50200, L_COOKIE, 7001, cookie + 1, 0x10, NULL, 0, 0);
	CHECK_EQ(core_in(tcp, f, n, 0), 0);
	CHECK_EQ(mib[HXS_TCP_MIB_SyncookiesRecv], 2);
	CHECK_EQ(mib[HXS_TCP_MIB_SyncookiesFailed], 1);
	for (i = 0; i < 2; i++) {
		if (!CHECK_EQ(hxs_tcp_conn__accept(l, &c), 0))
			break;
		CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);
		hxs_tcp_conn__abort(c);
		hxs_tcp_conn__close(c);
	}
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), -EAGAIN);
	hxs_tcp_conn__close(l);
	hxs_tcp__free(tcp);
}

int main(void)
{
	static const uint8_t linux_opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x30, 0x39,
						0, 0, 0, 0, 1, 3, 3, 7 };
	const struct hxs_sc_local loc = { .mss = 1460, .win = 65535, .ws = 9 };
	__u32 cflags = HXS_BIND_F_LISTEN | HXS_BIND_F_COOKIES | 1460u << HXS_BIND_MSS_SHIFT |
		       9u << HXS_BIND_WS_SHIFT;
	uint8_t host4[16], peer4[16], any6[16] = { 0 }, f[256];
	uint64_t s0, s1;
	size_t n;
	int xsk, err;

	if (geteuid())
		T_SKIP_ALL("needs root");
	hxs_addr_v4(host4, htonl(HOST));
	hxs_addr_v4(peer4, htonl(PEER));
	SEC.key[0][0] = 0x1122334455667788ull;
	SEC.key[0][1] = 0x99aabbccddeeff00ull;

	t_case("setup: load (the verifier takes the cookie code), bind entries, AF_XDP socket");
	err = hxs_xdp__open(&X, NULL, NULL);
	if (!CHECK_EQ(err, 0))
		return t_done();
	CHECK_EQ(hxs_xdp__bind_add(X, host4, htons(L_COOKIE), IPPROTO_TCP, 1, cflags), 0);
	CHECK_EQ(hxs_xdp__bind_add(X, host4, htons(L_PLAIN), IPPROTO_TCP, 2, HXS_BIND_F_LISTEN), 0);
	CHECK_EQ(hxs_xdp__bind_add(X, host4, htons(L_NOPARAM), IPPROTO_TCP, 3,
				   HXS_BIND_F_LISTEN | HXS_BIND_F_COOKIES), 0);
	CHECK_EQ(hxs_xdp__conn_add(X, host4, htons(C_LPORT), peer4, htons(C_RPORT), IPPROTO_TCP,
				   HXS_SLOT_NONE, 0), 0);
	/* IPv6: the cookie listener on its address, the plain one on :: (the wildcard entry of a
	 * dual-stack listener), and a known 4-tuple */
	CHECK_EQ(hxs_xdp__bind_add(X, HOST6, htons(L_COOKIE), IPPROTO_TCP, 1, cflags), 0);
	CHECK_EQ(hxs_xdp__bind_add(X, any6, htons(L_PLAIN), IPPROTO_TCP, 2, HXS_BIND_F_LISTEN), 0);
	CHECK_EQ(hxs_xdp__conn_add(X, HOST6, htons(C_LPORT), PEER6, htons(C_RPORT), IPPROTO_TCP,
				   HXS_SLOT_NONE, 0), 0);
	/* Every stack start waits for this verification: inlined into the steering code, the
	 * cookie code made the verifier process 561195 instructions (~10 s here, the listener
	 * absent all that time: the fast-path acceptance's first fetches during a SYN flood
	 * failed); as a global function it is checked once, 64259 with base5's steering.
	 * A count, not a time: the same for a given kernel and compiler. */
	{
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		CHECK_EQ(bpf_obj_get_info_by_fd(hxs_xdp__prog_fd(X), &info, &len), 0);
		CHECK(info.verified_insns > 0 && info.verified_insns < 200000,
		      "the verifier processed %u instructions (a start waits for them)",
		      info.verified_insns);
		printf("# the verifier processed %u instructions\n", info.verified_insns);
	}
	xsk = make_xsk();
	CHECK(xsk >= 0, "AF_XDP socket: %s", strerror(-xsk));
	CHECK_EQ(hxs_xdp__xsk_set(X, 0, xsk), 0);

	t_case("no secret in hxs_cookie yet: a SYN to a cookie listener is steered as before");
	n = mk(f, 0, 50000, L_COOKIE, 1000, 0, 0x02, linux_opts, 20, 0);
	expect(f, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);
	CHECK_EQ(put_secret(), 0);

	t_case("SYN with Linux's options: exact cookie SYN-ACK (MSS, SACK, TS, WS) via XDP_TX");
	{
		struct hxs_sc_syn syn = { .isn = 1000, .tsval = 12345, .mss = 1460, .has_mss = 1,
					  .has_ws = 1, .ws = 7, .sack_perm = 1, .has_ts = 1 };
		n = mk(f, 0, 50000, L_COOKIE, 1000, 0, 0x02, linux_opts, 20, 0);
		s0 = mono_s();
		expect(f, n, XDP_TX, HXS_XDP_SYN_COOKIES_SENT);
		s1 = mono_s();
		check_synack(0, &syn, &loc, s0, s1, 40);
		CHECK_EQ(out[14 + 20 + 31] & 0x3f, 0x10 | 7);
	}

	t_case("SYN without options (hping3): the frame grows to the MSS-only SYN-ACK");
	{
		struct hxs_sc_syn syn = { .isn = 0xfffffff0 };
		n = mk(f, 0, 50000, L_COOKIE, 0xfffffff0, 0, 0x02, NULL, 0, 0);
		s0 = mono_s();
		expect(f, n, XDP_TX, HXS_XDP_SYN_COOKIES_SENT);
		s1 = mono_s();
		check_synack(0, &syn, &loc, s0, s1, 24);
		CHECK_EQ(out[14 + 20 + 22] << 8 | out[14 + 20 + 23], 1460);
	}

	t_case("SYN with an 802.1Q tag, MSS 1300, timestamps only, and 10 payload bytes (dropped)");
	{
		static const uint8_t o[16] = { 2, 4, 0x05, 0x14, 1, 1, 8, 10, 0xaa, 0xbb, 0xcc, 0xdd,
					       0, 0, 0, 0 };
		struct hxs_sc_syn syn = { .isn = 77, .tsval = 0xaabbccdd, .mss = 1300, .has_mss = 1,
					  .has_ts = 1 };
		n = mk(f, 1, 50000, L_COOKIE, 77, 0, 0x02, o, 16, 10);
		s0 = mono_s();
		expect(f, n, XDP_TX, HXS_XDP_SYN_COOKIES_SENT, HXS_XDP_VLAN);
		s1 = mono_s();
		check_synack(1, &syn, &loc, s0, s1, 36);
	}

	t_case("ACK with a valid cookie: redirected (SynCookiesValid + TcpSteered)");
	{
		struct hxs_sc_tuple t = TUP;
		t.raddr = htonl(PEER);
		t.laddr = htonl(HOST);
		uint32_t c = hxs_sc_make(&SEC, &t, 1000, mono_s(), 3);
		n = mk(f, 0, 50000, L_COOKIE, 1001, c + 1, 0x10, NULL, 0, 0);
		expect(f, n, XDP_REDIRECT, HXS_XDP_SYN_COOKIES_VALID, HXS_XDP_TCP_STEERED);
		/* with data (the pure ACK was lost): the same */
		n = mk(f, 0, 50000, L_COOKIE, 1001, c + 1, 0x18, NULL, 0, 30);
		expect(f, n, XDP_REDIRECT, HXS_XDP_SYN_COOKIES_VALID, HXS_XDP_TCP_STEERED);

		t_case("ACK with a wrong cookie, ISN or port: dropped (SynCookiesFailed + Dropped)");
		n = mk(f, 0, 50000, L_COOKIE, 1001, c + 2, 0x10, NULL, 0, 0);
		expect(f, n, XDP_DROP, HXS_XDP_SYN_COOKIES_FAILED, HXS_XDP_DROPPED);
		n = mk(f, 0, 50000, L_COOKIE, 1002, c + 1, 0x10, NULL, 0, 0);
		expect(f, n, XDP_DROP, HXS_XDP_SYN_COOKIES_FAILED, HXS_XDP_DROPPED);
		n = mk(f, 0, 50001, L_COOKIE, 1001, c + 1, 0x10, NULL, 0, 0);
		expect(f, n, XDP_DROP, HXS_XDP_SYN_COOKIES_FAILED, HXS_XDP_DROPPED);

		t_case("rotation: a cookie of the previous key is still valid, of the one before not");
		SEC.key[1][0] = 0xabcdef;
		SEC.key[1][1] = 0x123456;
		SEC.cur = 1;
		CHECK_EQ(put_secret(), 0);
		n = mk(f, 0, 50000, L_COOKIE, 1001, c + 1, 0x10, NULL, 0, 0);
		expect(f, n, XDP_REDIRECT, HXS_XDP_SYN_COOKIES_VALID, HXS_XDP_TCP_STEERED);
		SEC.key[0][0] = 0x5a5a;
		SEC.cur = 0;
		CHECK_EQ(put_secret(), 0);
		expect(f, n, XDP_DROP, HXS_XDP_SYN_COOKIES_FAILED, HXS_XDP_DROPPED);
	}

	t_case("IPv6 SYN with Linux's options: exact cookie SYN-ACK over IPv6 via XDP_TX");
	{
		struct hxs_sc_syn syn = { .isn = 1000, .tsval = 12345, .mss = 1440, .has_mss = 1,
					  .has_ws = 1, .ws = 7, .sack_perm = 1, .has_ts = 1 };
		uint8_t o6[20];

		memcpy(o6, linux_opts, 20);
		o6[2] = 0x05; o6[3] = 0xa0;            /* MSS 1440: IPv6 on a 1500 MTU */
		n = mk6(f, 50000, L_COOKIE, 1000, 0, 0x02, o6, 20, 0);
		s0 = mono_s();
		expect(f, n, XDP_TX, HXS_XDP_SYN_COOKIES_SENT);
		s1 = mono_s();
		check_synack6(&syn, &loc, s0, s1, 40);
		CHECK_EQ(out[14 + 40 + 31] & 0x3f, 0x10 | 7);
		CHECK_EQ((out[14 + 40 + 4] >> (HXS_SC_MSS_SHIFT - 24)) & 3, 2);  /* MSS class 1440 */
	}

	t_case("IPv6 SYN without options, with 6 payload bytes: the MSS-only SYN-ACK");
	{
		struct hxs_sc_syn syn = { .isn = 0xfffffff0 };
		n = mk6(f, 50000, L_COOKIE, 0xfffffff0, 0, 0x02, NULL, 0, 6);
		s0 = mono_s();
		expect(f, n, XDP_TX, HXS_XDP_SYN_COOKIES_SENT);
		s1 = mono_s();
		check_synack6(&syn, &loc, s0, s1, 24);
		CHECK_EQ(out[14 + 40 + 22] << 8 | out[14 + 40 + 23], 1460);
	}

	t_case("IPv6 ACK with a valid cookie: redirected with HXS_META_F_COOKIE");
	{
		struct hxs_sc_tuple t = { .rport = 50000, .lport = L_COOKIE, .v6 = 1 };
		memcpy(t.raddr6, PEER6, 16);
		memcpy(t.laddr6, HOST6, 16);
		uint32_t c = hxs_sc_make(&SEC, &t, 4000, mono_s(), 2);
		n = mk6(f, 50000, L_COOKIE, 4001, c + 1, 0x10, NULL, 0, 0);
		expect(f, n, XDP_REDIRECT, HXS_XDP_SYN_COOKIES_VALID, HXS_XDP_TCP_STEERED);
		CHECK_EQ(out_metalen, sizeof(struct hxs_xdp_meta));
		CHECK_EQ(out_meta.magic, HXS_META_MAGIC);
		CHECK_EQ(out_meta.flags, HXS_META_F_COOKIE);
		CHECK_EQ(out_meta.l3_off, 14);
		CHECK_EQ(out_meta.l4_off, 54);
		CHECK_EQ(out_len, n);
		CHECK(memcmp(out, f, n) == 0, "the ACK redirected unchanged");
		/* with data: the same */
		n = mk6(f, 50000, L_COOKIE, 4001, c + 1, 0x18, NULL, 0, 100);
		expect(f, n, XDP_REDIRECT, HXS_XDP_SYN_COOKIES_VALID, HXS_XDP_TCP_STEERED);
		CHECK_EQ(out_meta.flags, HXS_META_F_COOKIE);

		t_case("IPv6 forged ACKs (cookie, ISN, port, an IPv4 cookie of the same ports): dropped");
		n = mk6(f, 50000, L_COOKIE, 4001, c + 2, 0x10, NULL, 0, 0);
		expect(f, n, XDP_DROP, HXS_XDP_SYN_COOKIES_FAILED, HXS_XDP_DROPPED);
		n = mk6(f, 50000, L_COOKIE, 4002, c + 1, 0x10, NULL, 0, 0);
		expect(f, n, XDP_DROP, HXS_XDP_SYN_COOKIES_FAILED, HXS_XDP_DROPPED);
		n = mk6(f, 50001, L_COOKIE, 4001, c + 1, 0x10, NULL, 0, 0);
		expect(f, n, XDP_DROP, HXS_XDP_SYN_COOKIES_FAILED, HXS_XDP_DROPPED);
		{
			struct hxs_sc_tuple t4 = TUP;
			t4.raddr = htonl(PEER);
			t4.laddr = htonl(HOST);
			uint32_t c4 = hxs_sc_make(&SEC, &t4, 4000, mono_s(), 2);
			n = mk6(f, 50000, L_COOKIE, 4001, c4 + 1, 0x10, NULL, 0, 0);
			expect(f, n, XDP_DROP, HXS_XDP_SYN_COOKIES_FAILED, HXS_XDP_DROPPED);
		}
		/* a peer address one bit off */
		t.raddr6[15] ^= 0x80;
		c = hxs_sc_make(&SEC, &t, 4000, mono_s(), 2);
		n = mk6(f, 50000, L_COOKIE, 4001, c + 1, 0x10, NULL, 0, 0);
		expect(f, n, XDP_DROP, HXS_XDP_SYN_COOKIES_FAILED, HXS_XDP_DROPPED);
	}

	t_case("IPv6 not cookie matters: steered as before");
	n = mk6(f, 50000, L_PLAIN, 1000, 0, 0x02, linux_opts, 20, 0);
	expect(f, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);            /* :: listener without flag */
	CHECK_EQ(out_meta.flags, 0);
	n = mk6(f, C_RPORT, C_LPORT, 1000, 0, 0x02, linux_opts, 20, 0);
	expect(f, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);            /* SYN of a known 4-tuple */
	n = mk6(f, 50000, L_COOKIE, 1000, 5, 0x04, NULL, 0, 0);
	expect(f, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);            /* RST */
	n = mk6(f, 50000, L_COOKIE, 1000, 5, 0x12, NULL, 0, 0);
	expect(f, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);            /* SYN|ACK */

	t_case("not cookie matters: steered as before");
	n = mk(f, 0, 50000, L_PLAIN, 1000, 0, 0x02, linux_opts, 20, 0);
	expect(f, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);            /* listener without flag */
	n = mk(f, 0, 50000, L_NOPARAM, 1000, 0, 0x02, linux_opts, 20, 0);
	expect(f, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);            /* flag but no MSS given */
	n = mk(f, 0, C_RPORT, C_LPORT, 1000, 0, 0x02, linux_opts, 20, 0);
	expect(f, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);            /* SYN of a known 4-tuple */
	n = mk(f, 0, C_RPORT, C_LPORT, 1000, 5, 0x10, NULL, 0, 0);
	expect(f, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);            /* ACK of a known 4-tuple */
	n = mk(f, 0, 50000, L_COOKIE, 1000, 5, 0x04, NULL, 0, 0);
	expect(f, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);            /* RST */
	n = mk(f, 0, 50000, L_COOKIE, 1000, 5, 0x14, NULL, 0, 0);
	expect(f, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);            /* RST|ACK */
	n = mk(f, 0, 50000, L_COOKIE, 1000, 5, 0x12, NULL, 0, 0);
	expect(f, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);            /* SYN|ACK */
	n = mk(f, 0, 50000, L_COOKIE, 1000, 0, 0x03, NULL, 0, 0);
	expect(f, n, XDP_REDIRECT, HXS_XDP_TCP_STEERED);            /* SYN|FIN */

	t_case("every frame got exactly one verdict counter (SynCookiesSent is one)");
	{
		__u64 v[HXS_XDP_STAT_MAX];

		CHECK_EQ(hxs_xdp__stats(X, v), 0);
		CHECK_EQ(v[HXS_XDP_SYN_COOKIES_SENT], 5);
		CHECK_EQ(v[HXS_XDP_SYN_COOKIES_VALID], 5);
		CHECK_EQ(v[HXS_XDP_SYN_COOKIES_FAILED], 9);
		CHECK_EQ(v[HXS_XDP_IN_RECEIVES], v[HXS_XDP_PASSED] + v[HXS_XDP_DROPPED] +
							 v[HXS_XDP_TCP_STEERED] + v[HXS_XDP_UDP_STEERED] +
							 v[HXS_XDP_ACK_FAST_PATH] + v[HXS_XDP_SYN_COOKIES_SENT]);
	}
	cross_check6();
	hxs_xdp__close(X);
	close(xsk);
	return t_done();
}
