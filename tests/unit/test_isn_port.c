/* test_isn_port.c - SipHash-2-4 vectors, RFC 6528 ISNs, RFC 6056 Algorithm 4 port selection. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "lib/siphash.h"
#include "tcp/tcp_isn.h"
#include "lib/port_sel.h"
/* check.h's CHECK(cond) without a message expands to an empty format string */

static void test_siphash(void)
{
	/* reference vectors of the SipHash paper / reference code: key 00..0f, message
	 * 00 01 .. (n-1), output read as a little-endian 64-bit word */
	static const struct { size_t n; uint64_t h; } v[] = {
		{ 0, 0x726fdb47dd0e0e31ull }, { 1, 0x74f839c593dc67fdull },
		{ 2, 0x0d6c8009d9a94f5aull }, { 3, 0x85676696d7fb7e2dull },
		{ 4, 0xcf2794e0277187b7ull }, { 8, 0x93f5f5799a932462ull },
		{ 15, 0xa129ca6149be45e5ull }, { 16, 0x3f2acc7f57c29bdbull },
	};
	uint8_t key[16], msg[64];
	unsigned i;

	t_case("SipHash-2-4 matches the paper's test vectors (lengths 0-4, 8, 15, 16)");
	for (i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint64_t h = hxs_siphash24(key, msg, v[i].n);
		CHECK(h == v[i].h, "len %zu: %016llx != %016llx", v[i].n, (unsigned long long)h,
		      (unsigned long long)v[i].h);
	}
	key[0] ^= 1;
	CHECK(hxs_siphash24(key, msg, 15) != 0xa129ca6149be45e5ull);
}

static void test_isn(void)
{
	struct hxs_isn isn, isn2;
	uint8_t key[16], key2[16];
	uint32_t a, prev, i;
	uint64_t now;
	int mono = 1;

	for (i = 0; i < 16; i++) {
		key[i] = (uint8_t)(0x10 + i * 7);
		key2[i] = (uint8_t)(0x99 ^ i);
	}
	hxs_isn_init(&isn, key);
	hxs_isn_init(&isn2, key2);

	t_case("ISN: the same 4-tuple advances with the 4 us clock (RFC 6528 M)");
	a = hxs_isn(&isn, 0x0a4d0001, 40000, 0x0a4d0002, 80, 1000000);
	CHECK_EQ((uint32_t)(hxs_isn(&isn, 0x0a4d0001, 40000, 0x0a4d0002, 80, 1000004) - a), 1);
	CHECK_EQ((uint32_t)(hxs_isn(&isn, 0x0a4d0001, 40000, 0x0a4d0002, 80, 1000003) - a), 0);
	CHECK_EQ((uint32_t)(hxs_isn(&isn, 0x0a4d0001, 40000, 0x0a4d0002, 80, 5000000) - a), 1000000);
	prev = a;
	for (now = 1000000; now < 60000000; now += 12345) {
		uint32_t x = hxs_isn(&isn, 0x0a4d0001, 40000, 0x0a4d0002, 80, now);
		if ((int32_t)(x - prev) < 0)
			mono = 0;
		prev = x;
	}
	CHECK(mono, "ISN went backwards for the same tuple");

	t_case("ISN: different tuples and different secrets give unrelated ISNs (RFC 6528 F)");
	CHECK(hxs_isn(&isn, 0x0a4d0001, 40001, 0x0a4d0002, 80, 1000000) != a);
	CHECK(hxs_isn(&isn, 0x0a4d0003, 40000, 0x0a4d0002, 80, 1000000) != a);
	CHECK(hxs_isn(&isn, 0x0a4d0001, 40000, 0x0a4d0004, 80, 1000000) != a);
	CHECK(hxs_isn(&isn, 0x0a4d0001, 40000, 0x0a4d0002, 81, 1000000) != a);
	CHECK(hxs_isn(&isn2, 0x0a4d0001, 40000, 0x0a4d0002, 80, 1000000) != a);
	{
		/* 1000 tuples at the same instant: offsets spread uniformly over 2^32; pairs
		 * closer than 2^16 occur with p = 2^17 / 2^32, ~15 of the 499500 pairs */
		static uint32_t v[1000];
		int close = 0, j, k;
		for (j = 0; j < 1000; j++)
			v[j] = hxs_isn(&isn, 0x0a4d0001, (uint16_t)(20000 + j), 0x0a4d0002, 443, 777);
		for (j = 0; j < 1000; j++)
			for (k = j + 1; k < 1000; k++)
				if ((uint32_t)(v[j] - v[k] + 65536) < 131072)
					close++;
		CHECK(close <= 40, "%d pairs of ISNs within 2^16", close);
	}
}

struct used {
	uint8_t bit[65536];
	int calls;
};
static int in_use(void *ctx, uint16_t port)
{
	struct used *u = ctx;
	u->calls++;
	return u->bit[port];
}

static void test_port(void)
{
	static struct hxs_port_sel ps;
	static struct used u;
	uint8_t k1[16], k2[16];
	int i, p, p2, distinct = 0;

	for (i = 0; i < 16; i++) {
		k1[i] = (uint8_t)(i * 13 + 1);
		k2[i] = (uint8_t)(i * 29 + 3);
	}
	t_case("port selection: bad ranges refused");
	CHECK_EQ(hxs_port_sel__init(&ps, k1, k2, 0, 100), -EINVAL);
	CHECK_EQ(hxs_port_sel__init(&ps, k1, k2, 5000, 4999), -EINVAL);
	CHECK_EQ(hxs_port_sel__init(&ps, k1, k2, 7000, 7000), 0);
	memset(&u, 0, sizeof(u));
	CHECK_EQ(hxs_port_sel__pick(&ps, 1, 2, 80, in_use, &u), 7000);

	t_case("port selection: stays in range, skips ports in use, -EADDRNOTAVAIL when full");
	CHECK_EQ(hxs_port_sel__init(&ps, k1, k2, 61000, 61009), 0);
	memset(&u, 0, sizeof(u));
	for (i = 0; i < 10; i++) {
		p = hxs_port_sel__pick(&ps, 0x0a4d0001, 0x0a4d0002, 80, in_use, &u);
		CHECK(p >= 61000 && p <= 61009, "port %d", p);
		if (p >= 61000 && p <= 61009) {
			CHECK(!u.bit[p], "port %d handed out twice", p);
			u.bit[p] = 1;
		}
	}
	u.calls = 0;
	CHECK_EQ(hxs_port_sel__pick(&ps, 0x0a4d0001, 0x0a4d0002, 80, in_use, &u), -EADDRNOTAVAIL);
	CHECK_EQ(u.calls, 10);                /* every port of the range tried once */
	u.bit[61004] = 0;
	CHECK_EQ(hxs_port_sel__pick(&ps, 0x0a4d0001, 0x0a4d0002, 443, in_use, &u), 61004);

	t_case("port selection: the same tuple walks on by one; different tuples start at different offsets");
	CHECK_EQ(hxs_port_sel__init(&ps, k1, k2, HXS_PORT_RANGE_LO, HXS_PORT_RANGE_HI), 0);
	memset(&u, 0, sizeof(u));
	p = hxs_port_sel__pick(&ps, 0x0a4d0001, 0x0a4d0002, 80, in_use, &u);
	p2 = hxs_port_sel__pick(&ps, 0x0a4d0001, 0x0a4d0002, 80, in_use, &u);
	CHECK_EQ(p2, p == HXS_PORT_RANGE_HI ? HXS_PORT_RANGE_LO : p + 1);
	{
		static uint8_t seen[65536];
		for (i = 0; i < 100; i++) {
			p = hxs_port_sel__pick(&ps, 0x0a4d0001, 0x0a4d0100 + (uint32_t)i, (uint16_t)(1000 + i),
					       in_use, &u);
			CHECK(p >= HXS_PORT_RANGE_LO && p <= HXS_PORT_RANGE_HI);
			if (p > 0 && !seen[p]) {
				seen[p] = 1;
				distinct++;
			}
		}
		/* 100 draws over 4536 ports: expect ~99 distinct; >= 90 unless offsets collide */
		CHECK(distinct >= 90, "only %d distinct first ports", distinct);
	}
}

int main(void)
{
	test_siphash();
	test_isn();
	test_port();
	return t_done();
}
