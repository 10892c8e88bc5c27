/* fuzz.h - what the libFuzzer targets of tests/fuzz/ share: a reader that takes fields off
 * the input (zeros once it is used up, so every input is a complete program), and FZ_CHECK,
 * an invariant that aborts with its message; libFuzzer then saves the input as the
 * reproducer (build/fuzz-work/TARGET/artifacts/, see scripts/fuzz.sh).
 *
 *   int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
 *   {
 *       struct fz in = FZ_INIT(data, size);
 *       while (fz_more(&in)) { switch (fz_u8(&in) % N) { ... } }
 *   }
 */
#ifndef HXS_FUZZ_H
#define HXS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fz {
	const uint8_t *p;
	size_t n, i;
};
#define FZ_INIT(data, size) { .p = (data), .n = (size), .i = 0 }

static inline int fz_more(const struct fz *f)
{
	return f->i < f->n;
}

static inline uint8_t fz_u8(struct fz *f)
{
	return f->i < f->n ? f->p[f->i++] : 0;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t hi = fz_u8(f);
	return (uint16_t)(hi << 8 | fz_u8(f));
}

static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t hi = fz_u16(f);
	return hi << 16 | fz_u16(f);
}

/* Up to want bytes of the input as they are; *got says how many there were. */
static inline const uint8_t *fz_bytes(struct fz *f, size_t want, size_t *got)
{
	size_t left = f->n - f->i;
	const uint8_t *p = f->p + f->i;

	*got = want < left ? want : left;
	f->i += *got;
	return p;
}

#define FZ_CHECK(cond, ...)                                                              \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "FUZZ INVARIANT %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                    \
			fputc('\n', stderr);                                             \
			abort();                                                         \
		}                                                                        \
	} while (0)

#endif
