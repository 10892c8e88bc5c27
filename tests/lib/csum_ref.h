/* csum_ref.h - the RFC 1071 Internet checksum, written the plain way (16-bit words, network
 * order, end-around carry), for tests to check the stack's faster sums against: ~sum of the
 * len bytes at p, starting from init_be (a partial sum in network order). */
#ifndef HXS_TEST_CSUM_REF_H
#define HXS_TEST_CSUM_REF_H

#include <stdint.h>

static inline uint16_t csum_ref(const uint8_t *p, uint32_t len, uint32_t init_be)
{
	uint64_t sum = init_be;

	for (uint32_t i = 0; i < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | (i + 1 < len ? p[i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#endif
