/* test_syncookie.c - the SYN-cookie scheme (hxs/syncookie.h): the SipHash against the
 * library's general one, make/check round trips for every MSS class, every way a cookie must
 * fail (other key, tuple, ISN, MSS bits, too old), key rotation, the TSval option encoding, and
 * the SYN-ACK header byte for byte with a checksum that verifies; the same for IPv6 tuples
 * (the 48-byte MAC against the library's SipHash, the IPv6 pseudo-header checksum). */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "hxs/syncookie.h"
#include "lib/csum.h"
#include "lib/siphash.h"

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static struct hxs_cookie_secret secret(uint64_t a, uint64_t b)
{
	struct hxs_cookie_secret s;

	memset(&s, 0, sizeof(s));
	s.key[0][0] = a;
	s.key[0][1] = b;
	return s;
}

int main(void)
{
	struct hxs_sc_tuple t = { .raddr = htonl(0x0a000001), .laddr = htonl(0x0a000002),
				  .rport = 40000, .lport = 8080 };
	struct hxs_cookie_secret s = secret(0x0123456789abcdefull, 0xfedcba9876543210ull);
	uint64_t now = 1000000;               /* seconds */

	t_case("hxs_sc_siphash3 equals SipHash-2-4 of the same 24 bytes (lib/siphash.c)");
	{
		uint8_t key[16], msg[24];
		uint64_t k0 = 0x0706050403020100ull, k1 = 0x0f0e0d0c0b0a0908ull;
		uint64_t m[3] = { 0x1122334455667788ull, 0x99aabbccddeeff00ull, 0x0102030405060708ull };
		le64(key, k0);
		le64(key + 8, k1);
		for (int i = 0; i < 3; i++)
			le64(msg + 8 * i, m[i]);
		CHECK_EQ(hxs_sc_siphash3(k0, k1, m[0], m[1], m[2]), hxs_siphash24(key, msg, 24));
		/* the paper's vector for the 24-byte message 00 01 .. 17 (Appendix A key) */
		for (int i = 0; i < 24; i++)
			msg[i] = (uint8_t)i;
		uint64_t w[3];
		memcpy(w, msg, 24);                /* little-endian host */
		CHECK_EQ(hxs_sc_siphash3(k0, k1, w[0], w[1], w[2]), hxs_siphash24(key, msg, 24));
	}

	t_case("round trip for every MSS class, and the class boundaries");
	{
		static const uint32_t mss_in[] = { 0, 100, 535, 536, 1299, 1300, 1439, 1440, 1459,
						   1460, 8960, 65535 };
		static const uint32_t cls[] = { 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 3 };
		for (unsigned i = 0; i < sizeof(mss_in) / sizeof(mss_in[0]); i++) {
			uint32_t idx = hxs_sc_mss_index(mss_in[i]);
			CHECK_EQ(idx, cls[i]);
			uint32_t c = hxs_sc_make(&s, &t, 0x12345678, now, idx);
			CHECK_EQ((c >> 24) & 3, idx);
			CHECK_EQ(hxs_sc_check(&s, &t, 0x12345678, c, now), (int)idx);
		}
		CHECK_EQ(hxs_sc_mss_of(0), 536);
		CHECK_EQ(hxs_sc_mss_of(1), 1300);
		CHECK_EQ(hxs_sc_mss_of(2), 1440);
		CHECK_EQ(hxs_sc_mss_of(3), 1460);
	}

	t_case("a wrong key, tuple, ISN, MSS class or MAC bit fails");
	{
		uint32_t c = hxs_sc_make(&s, &t, 0x12345678, now, 3);
		struct hxs_cookie_secret o = secret(0x0123456789abcdefull, 0xfedcba9876543211ull);
		struct hxs_sc_tuple u;
		CHECK_EQ(hxs_sc_check(&o, &t, 0x12345678, c, now), -1);
		u = t; u.raddr ^= htonl(1);
		CHECK_EQ(hxs_sc_check(&s, &u, 0x12345678, c, now), -1);
		u = t; u.laddr ^= htonl(0x100);
		CHECK_EQ(hxs_sc_check(&s, &u, 0x12345678, c, now), -1);
		u = t; u.rport++;
		CHECK_EQ(hxs_sc_check(&s, &u, 0x12345678, c, now), -1);
		u = t; u.lport++;
		CHECK_EQ(hxs_sc_check(&s, &u, 0x12345678, c, now), -1);
		CHECK_EQ(hxs_sc_check(&s, &t, 0x12345679, c, now), -1);
		/* an attacker cannot raise the MSS class: it is under the MAC */
		CHECK_EQ(hxs_sc_check(&s, &t, 0x12345678, c ^ (1u << 24), now), -1);
		int fails = 0;
		for (int b = 0; b < 24; b++)
			fails += hxs_sc_check(&s, &t, 0x12345678, c ^ (1u << b), now) == -1;
		CHECK_EQ(fails, 24);
		/* a key of zeros never validates, even the cookie it would make */
		struct hxs_cookie_secret z = secret(0, 0);
		CHECK_EQ(hxs_sc_check(&z, &t, 1, hxs_sc_make(&z, &t, 1, now, 0), now), -1);
	}

	t_case("time window: valid in the period made and the next, not after, not from the future");
	{
		uint64_t t0 = 64 * 1000;                        /* a period start */
		uint32_t c = hxs_sc_make(&s, &t, 7, t0, 1);
		CHECK_EQ(hxs_sc_check(&s, &t, 7, c, t0), 1);
		CHECK_EQ(hxs_sc_check(&s, &t, 7, c, t0 + 63), 1);
		CHECK_EQ(hxs_sc_check(&s, &t, 7, c, t0 + 64), 1);
		CHECK_EQ(hxs_sc_check(&s, &t, 7, c, t0 + 127), 1);
		CHECK_EQ(hxs_sc_check(&s, &t, 7, c, t0 + 128), -1);
		CHECK_EQ(hxs_sc_check(&s, &t, 7, c, t0 + 64 * 63), -1);
		CHECK_EQ(hxs_sc_check(&s, &t, 7, c, t0 - 1), -1);     /* one period earlier */
		/* the counter wraps every 64 periods: the cookie is good again only then */
		CHECK_EQ(hxs_sc_check(&s, &t, 7, c, t0 + 64 * 64), 1);
	}

	t_case("rotation: the previous key still validates, the one before does not");
	{
		struct hxs_cookie_secret r = s;
		uint32_t c = hxs_sc_make(&r, &t, 9, now, 2);
		r.key[1][0] = 0xaaaa;
		r.key[1][1] = 0x5555;
		r.cur = 1;                                   /* rotated: key 0 is the previous */
		CHECK_EQ(hxs_sc_check(&r, &t, 9, c, now), 2);
		uint32_t c2 = hxs_sc_make(&r, &t, 9, now, 2);
		CHECK(c2 != c, "a new key makes another cookie");
		CHECK_EQ(hxs_sc_check(&r, &t, 9, c2, now), 2);
		r.key[0][0] = 0xbbbb;                        /* rotated again: key 0 replaced */
		r.cur = 0;
		CHECK_EQ(hxs_sc_check(&r, &t, 9, c, now), -1);
		CHECK_EQ(hxs_sc_check(&r, &t, 9, c2, now), 2);
	}

	t_case("TSval options: window scale 0..14 and none, SACK, never ahead of the clock");
	{
		struct hxs_sc_opts o;
		for (int ws = -1; ws <= 14; ws++)
			for (int sack = 0; sack < 2; sack++) {
				uint32_t now_ts = 0x10000005u + (uint32_t)(ws + 1) * 977;
				uint32_t ts = hxs_sc_ts_encode(now_ts, ws, sack);
				CHECK((int32_t)(now_ts - ts) >= 0 && now_ts - ts < 64, "ts %x now %x", ts, now_ts);
				CHECK_EQ(hxs_sc_ts_decode(2, 1, ts, &o), 0);
				CHECK_EQ(o.mss, 1440);
				CHECK_EQ(o.ts_ok, 1);
				CHECK_EQ(o.sack_ok, sack);
				CHECK_EQ(o.ws_ok, ws >= 0);
				CHECK_EQ(o.ws, ws >= 0 ? ws : 0);
			}
		/* a shift above 14 is used as 14 (RFC 7323 §2.3) */
		CHECK_EQ(hxs_sc_ts_encode(0x100, 15, 0) & 0xf, 14);
		/* an ACK without timestamps gets MSS only */
		CHECK_EQ(hxs_sc_ts_decode(3, 0, 0, &o), 0);
		CHECK(o.mss == 1460 && !o.ts_ok && !o.sack_ok && !o.ws_ok);
		/* TSecr that we cannot have sent: ECN bit, window scale 15 is "none", not a shift */
		CHECK_EQ(hxs_sc_ts_decode(0, 1, 0x20 | 3, &o), -1);
		CHECK_EQ(hxs_sc_ts_decode(0, 1, 0x0f, &o), 0);
		CHECK_EQ(o.ws_ok, 0);
	}

	t_case("SYN-ACK with timestamps: exact bytes and a checksum that verifies");
	{
		struct hxs_sc_syn syn = { .isn = 0x01020304, .tsval = 0x11223344, .mss = 1460,
					  .has_mss = 1, .has_ws = 1, .ws = 7, .sack_perm = 1, .has_ts = 1 };
		struct hxs_sc_local loc = { .mss = 1460, .win = 65535, .ws = 2 };
		uint8_t p[40];
		uint32_t n = hxs_sc_synack(p, &t, &syn, &loc, 0xdeadbeef, 0x5000);
		uint32_t tsv = (0x5000 & ~0x3fu) | 7 | 0x10;
		if (tsv > 0x5000)
			tsv -= 64;
		const uint8_t want[40] = {
			0x1f, 0x90, 0x9c, 0x40,  0xde, 0xad, 0xbe, 0xef,  0x01, 0x02, 0x03, 0x05,
			0xa0, 0x12, 0xff, 0xff,  0, 0, 0, 0,
			2, 4, 0x05, 0xb4,  4, 2, 8, 10,
			(uint8_t)(tsv >> 24), (uint8_t)(tsv >> 16), (uint8_t)(tsv >> 8), (uint8_t)tsv,
			0x11, 0x22, 0x33, 0x44,  1, 3, 3, 2 };
		CHECK_EQ(n, 40);
		uint8_t got[40];
		memcpy(got, p, 40);
		got[16] = got[17] = 0;
		CHECK(memcmp(got, want, 40) == 0, "header bytes");
		CHECK_EQ(hxs_csum_fold(hxs_csum_add(hxs_csum_pseudo(t.laddr, t.raddr, 6, n), p, n)), 0);
	}

	t_case("SYN-ACK without timestamps: MSS only; SACK without TS is not offered");
	{
		struct hxs_sc_syn syn = { .isn = 0xffffffff, .mss = 1400, .has_mss = 1, .has_ws = 1,
					  .ws = 7, .sack_perm = 1 };
		struct hxs_sc_local loc = { .mss = 1460, .win = 29200, .ws = 7 };
		uint8_t p[40];
		uint32_t n = hxs_sc_synack(p, &t, &syn, &loc, 1, 0);
		CHECK_EQ(n, 24);
		CHECK_EQ(p[12], 0x60);
		CHECK(p[8] == 0 && p[9] == 0 && p[10] == 0 && p[11] == 0, "ACK = ISN + 1 wraps to 0");
		CHECK(p[20] == 2 && p[21] == 4 && p[22] == 0x05 && p[23] == 0xb4);
		CHECK(p[14] == 0x72 && p[15] == 0x10);
		CHECK_EQ(hxs_csum_fold(hxs_csum_add(hxs_csum_pseudo(t.laddr, t.raddr, 6, n), p, n)), 0);
	}

	t_case("SYN-ACK: timestamps without SACK or window scale, and a listener offering none");
	{
		struct hxs_sc_syn syn = { .isn = 5, .tsval = 9, .has_ts = 1 };
		struct hxs_sc_local loc = { .mss = 1000, .win = 1000, .ws = 3 };
		struct hxs_sc_opts o;
		uint8_t p[40];
		uint32_t n = hxs_sc_synack(p, &t, &syn, &loc, 1, 1000);
		CHECK_EQ(n, 36);
		CHECK(p[24] == 1 && p[25] == 1 && p[26] == 8 && p[27] == 10, "NOP NOP TS");
		uint32_t tsv = (uint32_t)p[28] << 24 | p[29] << 16 | p[30] << 8 | p[31];
		CHECK_EQ(hxs_sc_ts_decode(0, 1, tsv, &o), 0);
		CHECK(o.ts_ok && !o.sack_ok && !o.ws_ok);
		CHECK_EQ(hxs_csum_fold(hxs_csum_add(hxs_csum_pseudo(t.laddr, t.raddr, 6, n), p, n)), 0);
		syn.has_ws = syn.sack_perm = 1;
		loc.no_ts = 1;
		CHECK_EQ(hxs_sc_synack(p, &t, &syn, &loc, 1, 1000), 24);
	}

	t_case("hxs_sc_mac over IPv6 equals SipHash-2-4 of the 48-byte message (lib/siphash.c)");
	{
		struct hxs_sc_tuple u = { .rport = 40000, .lport = 8080, .v6 = 1 };
		uint8_t key[16], msg[48];

		for (int i = 0; i < 16; i++) {
			u.raddr6[i] = (uint8_t)(0x20 + i);
			u.laddr6[i] = (uint8_t)(0x80 + i);
		}
		le64(key, s.key[0][0]);
		le64(key + 8, s.key[0][1]);
		memcpy(msg, u.raddr6, 16);
		memcpy(msg + 16, u.laddr6, 16);
		le64(msg + 32, 40000 | (uint64_t)8080 << 16 | (uint64_t)0x12345678 << 32);
		le64(msg + 40, 5 | (uint64_t)2 << 8);
		CHECK_EQ(hxs_sc_mac(s.key[0], &u, 0x12345678, 5, 2),
			 (uint32_t)hxs_siphash24(key, msg, 48) & HXS_SC_HASH_MASK);
	}

	t_case("IPv6: round trip; every address byte, the ports, the ISN count; an IPv4 cookie is not an IPv6 one");
	{
		struct hxs_sc_tuple u = { .rport = 40000, .lport = 8080, .v6 = 1 }, v;
		int fails = 0;

		u.raddr6[0] = 0xfd; u.raddr6[15] = 1;
		u.laddr6[0] = 0xfd; u.laddr6[15] = 2;
		for (uint32_t idx = 0; idx < 4; idx++) {
			uint32_t c = hxs_sc_make(&s, &u, 0x12345678, now, idx);
			CHECK_EQ(hxs_sc_check(&s, &u, 0x12345678, c, now), (int)idx);
		}
		uint32_t c = hxs_sc_make(&s, &u, 0x12345678, now, 3);
		for (int i = 0; i < 32; i++) {
			v = u;
			if (i < 16)
				v.raddr6[i] ^= 0x01;
			else
				v.laddr6[i - 16] ^= 0x80;
			fails += hxs_sc_check(&s, &v, 0x12345678, c, now) == -1;
		}
		CHECK_EQ(fails, 32);
		v = u; v.rport++;
		CHECK_EQ(hxs_sc_check(&s, &v, 0x12345678, c, now), -1);
		v = u; v.lport++;
		CHECK_EQ(hxs_sc_check(&s, &v, 0x12345678, c, now), -1);
		CHECK_EQ(hxs_sc_check(&s, &u, 0x12345679, c, now), -1);
		/* the same ports and ISN over IPv4: a different message */
		c = hxs_sc_make(&s, &t, 0x12345678, now, 3);
		v = u;
		CHECK_EQ(hxs_sc_check(&s, &v, 0x12345678, c, now), -1);
	}

	t_case("IPv6 SYN-ACK: the checksum verifies over the IPv6 pseudo-header (RFC 8200 §8.1)");
	{
		struct hxs_sc_tuple u = { .rport = 40000, .lport = 8080, .v6 = 1 };
		struct hxs_sc_syn syn = { .isn = 0x01020304, .tsval = 0x11223344, .mss = 1440,
					  .has_mss = 1, .has_ws = 1, .ws = 7, .sack_perm = 1, .has_ts = 1 };
		struct hxs_sc_local loc = { .mss = 1440, .win = 65535, .ws = 2 };
		uint8_t p[40], q[40];

		for (int i = 0; i < 16; i++) {
			u.raddr6[i] = (uint8_t)(0xf0 - 7 * i);
			u.laddr6[i] = (uint8_t)(0x0f + 13 * i);
		}
		uint32_t n = hxs_sc_synack(p, &u, &syn, &loc, 0xdeadbeef, 0x5000);
		CHECK_EQ(n, 40);
		CHECK_EQ(hxs_csum_fold(hxs_csum_add(hxs_csum_pseudo6(u.laddr6, u.raddr6, 6, n), p, n)), 0);
		/* every byte but the checksum as over IPv4 */
		hxs_sc_synack(q, &t, &syn, &loc, 0xdeadbeef, 0x5000);
		CHECK(memcmp(p, q, 16) == 0 && memcmp(p + 18, q + 18, n - 18) == 0, "same header");
	}
	return t_done();
}
