/* tcp_isn.h - initial sequence numbers per RFC 6528:
 * ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a 4 us clock taken
 * from the caller's time, F SipHash-2-4 under a 128-bit secret.
 *
 *   struct hxs_isn isn; hxs_isn_init(&isn, key);          key from getrandom() at start-up
 *   iss = hxs_isn(&isn, saddr, sport, daddr, dport, now_us);
 */
#ifndef HXS_TCP_ISN_H
#define HXS_TCP_ISN_H

#include "lib/addr.h"
#include <stdint.h>

#include "lib/siphash.h"

struct hxs_isn {
	uint8_t key[16];
};

void hxs_isn_init(struct hxs_isn *isn, const uint8_t key[16]);
/* Addresses and ports are hashed as given (pass them in one byte order consistently). */
/* Either family: an IPv4 tuple gives hxs_isn()'s value, an IPv6 one hashes its 16-byte
 * addresses (RFC 6528 §3: F of the connection-id, whatever the address size). */
uint32_t hxs_isn_addr(const struct hxs_isn *isn, struct hxs_addr saddr, uint16_t sport,
		      struct hxs_addr daddr, uint16_t dport, uint64_t now_us);
uint32_t hxs_isn(const struct hxs_isn *isn, uint32_t saddr, uint16_t sport, uint32_t daddr,
		 uint16_t dport, uint64_t now_us);

#endif
