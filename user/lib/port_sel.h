/* port_sel.h - ephemeral port selection, RFC 6056 §3.3.4 Algorithm 4 ("Double-Hash Port
 * Selection Algorithm"), over a range the caller chooses. The socket layer holds the one
 * picker of a stack (sock/socket.c, for UDP and TCP alike); the TCP core picks no port.
 *
 * hxs shares the host with the kernel's stack, whose ephemeral range is
 * net.ipv4.ip_local_port_range (32768-60999 by default): the caller must pick a range that
 * does not overlap it, e.g. HXS_PORT_RANGE_LO..HXS_PORT_RANGE_HI.
 *
 *   struct hxs_port_sel ps;
 *   hxs_port_sel__init(&ps, key1, key2, 61000, 65535);
 *   port = hxs_port_sel__pick(&ps, laddr, raddr, rport, in_use, ctx);   or -EADDRNOTAVAIL
 */
#ifndef HXS_PORT_SEL_H
#define HXS_PORT_SEL_H

#include "addr.h"

#include <stdint.h>

#define HXS_PORT_RANGE_LO 61000     /* above the kernel's default 32768-60999 */
#define HXS_PORT_RANGE_HI 65535
#define HXS_PORT_TABLE_BITS 10      /* RFC 6056 §3.3.4: TABLE_LENGTH = 2^10 counters */
#define HXS_PORT_TABLE_LEN (1u << HXS_PORT_TABLE_BITS)

struct hxs_port_sel {
	uint8_t key1[16];           /* secret_key1: the offset function F */
	uint8_t key2[16];           /* secret_key2: the index function G */
	uint16_t lo, hi;            /* inclusive range */
	uint32_t table[HXS_PORT_TABLE_LEN];   /* RFC 6056 table[]: per-index start counters */
};

/* Returns 0, or -EINVAL if lo is 0 or lo > hi. */
int hxs_port_sel__init(struct hxs_port_sel *ps, const uint8_t key1[16], const uint8_t key2[16],
		       uint16_t lo, uint16_t hi);
/* in_use(ctx, port): non-zero if the port cannot be used for this remote endpoint.
 * Returns the port chosen, or -EADDRNOTAVAIL when every port of the range is in use. */
int hxs_port_sel__pick(struct hxs_port_sel *ps, uint32_t laddr, uint32_t raddr, uint16_t rport,
		       int (*in_use)(void *ctx, uint16_t port), void *ctx);
/* Either family: an IPv4 pair gives _pick's choice, an IPv6 pair hashes its 16-byte
 * addresses (RFC 6056 F and G of the whole (local_IP, remote_IP, remote_port)). */
int hxs_port_sel__pick_addr(struct hxs_port_sel *ps, struct hxs_addr laddr, struct hxs_addr raddr,
			    uint16_t rport, int (*in_use)(void *ctx, uint16_t port), void *ctx);

#endif
