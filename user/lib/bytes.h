/* bytes.h - big-endian (network order) 16- and 32-bit fields read from and written to a byte
 * buffer at any alignment: the one copy of these helpers for header and option fields. */
#ifndef HXS_BYTES_H
#define HXS_BYTES_H

#include <stdint.h>

/* Reads the big-endian 16-bit field at p. */
static inline uint16_t hxs_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Reads the big-endian 32-bit field at p. */
static inline uint32_t hxs_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Writes v as a big-endian 16-bit field at p. */
static inline void hxs_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Writes v as a big-endian 32-bit field at p. */
static inline void hxs_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
