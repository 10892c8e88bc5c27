/* port_sel.c - RFC 6056 §3.3.4 Algorithm 4, double-hash ephemeral port selection.
 *
 *   hxs_port_sel__pick() -> hash3(key1) = offset (F), hash3(key2) % TABLE_LEN = index (G)
 *                        -> walk the range from min + (offset + table[index]) % num,
 *                           table[index]++ per candidate, until in_use() says free
 */
#include <errno.h>
#include <string.h>

#include "siphash.h"
#include "port_sel.h"

/* F / G of RFC 6056: SipHash of (local_IP, remote_IP, remote_port) under a secret. */
static uint32_t hash3(const uint8_t key[16], uint32_t laddr, uint32_t raddr, uint16_t rport)
{
	uint8_t m[10] = {
		(uint8_t)laddr, (uint8_t)(laddr >> 8), (uint8_t)(laddr >> 16), (uint8_t)(laddr >> 24),
		(uint8_t)raddr, (uint8_t)(raddr >> 8), (uint8_t)(raddr >> 16), (uint8_t)(raddr >> 24),
		(uint8_t)rport, (uint8_t)(rport >> 8),
	};

	return (uint32_t)hxs_siphash24(key, m, sizeof(m));
}

int hxs_port_sel__init(struct hxs_port_sel *ps, const uint8_t key1[16], const uint8_t key2[16],
		       uint16_t lo, uint16_t hi)
{
	uint32_t i;

	if (lo == 0 || lo > hi)
		return -EINVAL;
	memcpy(ps->key1, key1, 16);
	memcpy(ps->key2, key2, 16);
	ps->lo = lo;
	ps->hi = hi;
	/* RFC 6056 §3.3.4: "for(i = 0; i < TABLE_LENGTH; i++) table[i] = random() % 65536;"
	 * - derived from the secret so the table is unpredictable yet needs no other source. */
	for (i = 0; i < HXS_PORT_TABLE_LEN; i++) {
		uint8_t m[5] = { 'T', (uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16), (uint8_t)(i >> 24) };

		ps->table[i] = (uint16_t)hxs_siphash24(key2, m, sizeof(m));   /* % 65536 */
	}
	return 0;
}

static int pick_hashed(struct hxs_port_sel *ps, uint32_t offset, uint32_t index,
		       int (*in_use)(void *ctx, uint16_t port), void *ctx);

int hxs_port_sel__pick(struct hxs_port_sel *ps, uint32_t laddr, uint32_t raddr, uint16_t rport,
		       int (*in_use)(void *ctx, uint16_t port), void *ctx)
{
	return pick_hashed(ps, hash3(ps->key1, laddr, raddr, rport),
			   hash3(ps->key2, laddr, raddr, rport), in_use, ctx);
}

static uint32_t hash3_6(const uint8_t key[16], struct hxs_addr l, struct hxs_addr r, uint16_t rport)
{
	uint8_t m[34];

	memcpy(m, l.b, 16);
	memcpy(m + 16, r.b, 16);
	m[32] = (uint8_t)rport;
	m[33] = (uint8_t)(rport >> 8);
	return (uint32_t)hxs_siphash24(key, m, sizeof(m));
}

int hxs_port_sel__pick_addr(struct hxs_port_sel *ps, struct hxs_addr laddr, struct hxs_addr raddr,
			    uint16_t rport, int (*in_use)(void *ctx, uint16_t port), void *ctx)
{
	if (hxs_addr_is4(laddr) && (hxs_addr_is4(raddr) || hxs_addr_is_any6(raddr)))
		return hxs_port_sel__pick(ps, hxs_addr_get4(laddr), hxs_addr_get4(raddr), rport,
					  in_use, ctx);
	return pick_hashed(ps, hash3_6(ps->key1, laddr, raddr, rport),
			   hash3_6(ps->key2, laddr, raddr, rport), in_use, ctx);
}

static int pick_hashed(struct hxs_port_sel *ps, uint32_t offset, uint32_t index,
		       int (*in_use)(void *ctx, uint16_t port), void *ctx)
{
	/* RFC 6056 §3.3.4:
	 *   num_ephemeral = max_ephemeral - min_ephemeral + 1;
	 *   offset = F(local_IP, remote_IP, remote_port, secret_key1);
	 *   index = G(local_IP, remote_IP, remote_port, secret_key2);
	 *   count = num_ephemeral; */
	uint32_t num = (uint32_t)ps->hi - ps->lo + 1, count = num;
	index &= HXS_PORT_TABLE_LEN - 1;
	/* the walk is computed from its first candidate so that it covers every port of the
	 * range exactly once even if table[index] wraps at 2^32 mid-walk */
	uint32_t first = (uint32_t)(((uint64_t)offset + ps->table[index]) % num), k = 0;

	do {
		/* "port = min_ephemeral + (offset + table[index]) % num_ephemeral;
		 *  table[index]++;
		 *  if(check_suitable_port(port)) return port;" */
		uint16_t port = (uint16_t)(ps->lo + (first + k++) % num);

		ps->table[index]++;
		if (!in_use(ctx, port))
			return port;
		count--;
	} while (count > 0);
	return -EADDRNOTAVAIL;      /* "return ERROR;" */
}
