/* tcp_buf.c - byte rings for the send and receive buffers (SO_SNDBUF / SO_RCVBUF bounded).
 *
 * hxs_tcp_ring__append() <- send(); hxs_tcp_ring__read() <- output (retransmissions read the
 * same bytes again until acknowledged) and recv(); hxs_tcp_ring__write() <- reassembly, which
 * places out-of-order bytes beyond `len` at their final offset; consume() frees acked/read
 * bytes. Memory is allocated once per connection, never per segment.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_conn.h"

int hxs_tcp_ring__init(struct hxs_tcp_ring *r, uint32_t cap)
{
	r->buf = malloc(cap ? cap : 1);
	if (!r->buf)
		return -ENOMEM;
	r->cap = cap;
	r->head = r->len = 0;
	return 0;
}

void hxs_tcp_ring__free(struct hxs_tcp_ring *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->head = r->len = 0;
}

static uint32_t ring_pos(const struct hxs_tcp_ring *r, uint32_t off)
{
	uint64_t p = (uint64_t)r->head + off;
	return (uint32_t)(p % r->cap);
}

void hxs_tcp_ring__read(const struct hxs_tcp_ring *r, uint32_t off, void *p, uint32_t n)
{
	if (!n)
		return;
	uint32_t pos = ring_pos(r, off);
	uint32_t first = r->cap - pos < n ? r->cap - pos : n;
	memcpy(p, r->buf + pos, first);
	memcpy((uint8_t *)p + first, r->buf, n - first);
}

void hxs_tcp_ring__write(struct hxs_tcp_ring *r, uint32_t off, const void *p, uint32_t n)
{
	if (!n)
		return;
	uint32_t pos = ring_pos(r, off);
	uint32_t first = r->cap - pos < n ? r->cap - pos : n;
	memcpy(r->buf + pos, p, first);
	memcpy(r->buf, (const uint8_t *)p + first, n - first);
}

uint32_t hxs_tcp_ring__append(struct hxs_tcp_ring *r, const void *p, uint32_t n)
{
	uint32_t room = r->cap - r->len;
	if (n > room)
		n = room;
	hxs_tcp_ring__write(r, r->len, p, n);
	r->len += n;
	return n;
}

void hxs_tcp_ring__consume(struct hxs_tcp_ring *r, uint32_t n)
{
	if (n > r->len)
		n = r->len;
	r->head = r->cap ? ring_pos(r, n) : 0;
	r->len -= n;
	/* head is not reset when empty: out-of-order bytes may sit beyond len. */
}

int hxs_tcp_ring__resize(struct hxs_tcp_ring *r, uint32_t cap)
{
	if (r->len > cap || !cap)
		return -EINVAL;
	uint8_t *nb = malloc(cap);
	if (!nb)
		return -ENOMEM;
	hxs_tcp_ring__read(r, 0, nb, r->len);
	free(r->buf);
	r->buf = nb;
	r->cap = cap;
	r->head = 0;
	return 0;
}
