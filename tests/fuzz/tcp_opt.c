/* tcp_opt.c - libFuzzer target: TCP option parsing and writing (user/tcp/tcp_opt.c).
 *
 * Input: byte 0 picks what is written back (bit 0: a SYN's options; bits 1-3: how many SACK
 * blocks, 0..4), the rest is an options area (at most 40 bytes are used, as a data offset
 * of 15 allows). Checked:
 *   - hxs_tcp_opt__parse() reads only [p, p + len) (an exactly sized heap copy under ASan),
 *     returns 0 or -EINVAL, and agrees with ref_parse(), a second reading of RFC 9293 §3.1
 *     written here on its own: the same verdict, the same values;
 *   - what it accepts is within range: at most 4 SACK blocks, a window shift <= 14
 *     (RFC 7323 §2.3);
 *   - hxs_tcp_opt__write() of those values (into an exactly sized 40-byte buffer) is a
 *     multiple of 4, parses back to the same values (for a SYN: MSS, WS, SACK-permitted,
 *     timestamps; otherwise timestamps and the SACK blocks that fit), and never carries a
 *     SYN-only option in a non-SYN segment (RFC 7323 §2.2, RFC 2018 §2, RFC 9293 §3.7.1).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tcp/tcp_conn.h"

/* RFC 9293 §3.1 option format: kind 0 ends the list, kind 1 is one byte, every other kind
 * has a length octet counting kind and length; a length < 2 or past the area is illegal
 * ("MUST be prepared to handle an illegal option length"). Known kinds with the wrong
 * length are refused, as hxs does; a SACK option holds 1..4 blocks of 8 bytes (RFC 2018 §3;
 * a longer one is legal and its first 4 blocks are kept). */
static int ref_parse(const uint8_t *p, uint32_t len, struct hxs_tcp_opts *o)
{
	static const uint8_t fixed_len[256] = { [2] = 4, [3] = 3, [4] = 2, [8] = 10 };
	uint32_t at = 0;

	memset(o, 0, sizeof(*o));
	while (at < len && p[at] != 0) {
		if (p[at] == 1) {
			at++;
			continue;
		}
		if (len - at < 2 || p[at + 1] < 2 || p[at + 1] > len - at)
			return -EINVAL;
		uint8_t kind = p[at], l = p[at + 1];
		const uint8_t *v = p + at + 2;
		if (fixed_len[kind] && l != fixed_len[kind])
			return -EINVAL;
		if (kind == 5 && (l < 10 || (l - 2) % 8 != 0))
			return -EINVAL;
		if (kind == 2) {
			o->has_mss = 1;
			o->mss = (uint16_t)(v[0] << 8 | v[1]);
		} else if (kind == 3) {
			o->has_ws = 1;
			o->ws = v[0] < 14 ? v[0] : 14;
		} else if (kind == 4) {
			o->sack_perm = 1;
		} else if (kind == 8) {
			o->has_ts = 1;
			o->tsval = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
			o->tsecr = (uint32_t)v[4] << 24 | (uint32_t)v[5] << 16 | (uint32_t)v[6] << 8 | v[7];
		} else if (kind == 5) {
			for (uint32_t b = 0; b < (uint32_t)(l - 2) / 8; b++) {
				if (o->nsack == 4)
					break;
				const uint8_t *e = v + 8 * b;
				o->sack[o->nsack].start = (uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 |
							  (uint32_t)e[2] << 8 | e[3];
				o->sack[o->nsack].end = (uint32_t)e[4] << 24 | (uint32_t)e[5] << 16 |
							(uint32_t)e[6] << 8 | e[7];
				o->nsack++;
			}
		}
		at += l;
	}
	return 0;
}

static void same_opts(const struct hxs_tcp_opts *a, const struct hxs_tcp_opts *b, const char *what)
{
	FZ_CHECK(a->has_mss == b->has_mss && (!a->has_mss || a->mss == b->mss), "%s: MSS", what);
	FZ_CHECK(a->has_ws == b->has_ws && (!a->has_ws || a->ws == b->ws), "%s: window scale", what);
	FZ_CHECK(a->sack_perm == b->sack_perm, "%s: SACK-permitted", what);
	FZ_CHECK(a->has_ts == b->has_ts &&
		 (!a->has_ts || (a->tsval == b->tsval && a->tsecr == b->tsecr)), "%s: timestamps", what);
	FZ_CHECK(a->nsack == b->nsack, "%s: %u SACK blocks against %u", what, a->nsack, b->nsack);
	for (int i = 0; i < a->nsack; i++)
		FZ_CHECK(a->sack[i].start == b->sack[i].start && a->sack[i].end == b->sack[i].end,
			 "%s: SACK block %d", what, i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hxs_tcp_opts o, r, back;
	if (size < 1)
		return 0;
	int syn = data[0] & 1;
	uint8_t want_sack = (uint8_t)((data[0] >> 1 & 7) % 5);
	uint32_t len = (uint32_t)(size - 1 < HXS_TCP_MAX_OPT ? size - 1 : HXS_TCP_MAX_OPT);
	uint8_t *area = malloc(len ? len : 1);
	memcpy(area, data + 1, len);

	int rc = hxs_tcp_opt__parse(area, len, &o);
	int rrc = ref_parse(area, len, &r);
	FZ_CHECK(rc == 0 || rc == -EINVAL, "parse returned %d", rc);
	FZ_CHECK(rc == rrc, "parse says %d, the reference %d", rc, rrc);
	free(area);
	if (rc)
		return 0;
	same_opts(&o, &r, "parse against the reference");
	FZ_CHECK(o.nsack <= 4, "%u SACK blocks", o.nsack);
	FZ_CHECK(!o.has_ws || o.ws <= 14, "window shift %u", o.ws);

	/* Write back what was parsed (the SACK blocks as many as byte 0 asks, repeating
	 * the parsed ones or made up from the timestamps when there are none). */
	o.nsack = want_sack;
	for (int i = 0; i < want_sack; i++)
		if (i >= r.nsack) {
			o.sack[i].start = o.tsval + (uint32_t)i * 1000u;
			o.sack[i].end = o.tsecr ^ (uint32_t)i;
		}
	uint8_t *out = malloc(HXS_TCP_MAX_OPT);
	uint32_t n = hxs_tcp_opt__write(out, &o, syn);
	FZ_CHECK(n <= HXS_TCP_MAX_OPT && n % 4 == 0, "wrote %u bytes", n);
	FZ_CHECK(hxs_tcp_opt__parse(out, n, &back) == 0, "what we write does not parse");
	FZ_CHECK(ref_parse(out, n, &r) == 0, "what we write breaks RFC 9293 §3.1");
	same_opts(&back, &r, "written, parsed against the reference");
	free(out);

	struct hxs_tcp_opts expect;
	memset(&expect, 0, sizeof(expect));
	expect.has_ts = o.has_ts;
	expect.tsval = o.tsval;
	expect.tsecr = o.tsecr;
	if (syn) {
		/* RFC 7323 §2.2 (WS), RFC 2018 §2 (SACK-permitted), RFC 9293 §3.7.1 (MSS): SYN only. */
		expect.has_mss = o.has_mss;
		expect.mss = o.mss;
		expect.has_ws = o.has_ws;
		expect.ws = o.ws;
		expect.sack_perm = o.sack_perm;
	} else {
		/* 40 bytes: 4 blocks without timestamps, 3 beside them (RFC 2018 §3). */
		uint8_t room = o.has_ts ? 3 : 4;
		expect.nsack = o.nsack < room ? o.nsack : room;
		memcpy(expect.sack, o.sack, sizeof(expect.sack));
	}
	same_opts(&back, &expect, syn ? "SYN written and parsed" : "segment written and parsed");
	return 0;
}
