/* tcp_opt.c - TCP options: parse what arrives, write what we send.
 *
 * hxs_tcp__input() -> hxs_tcp_opt__parse()            (RFC 9293 §3.1, RFC 7323, RFC 2018;
 *                                                      <NOP, NOP, TS> taken whole)
 * hxs_tcp_send_seg() -> hxs_tcp_opt__write()
 *
 * RFC 9293 §3.1: "a TCP implementation MUST be prepared to handle an illegal option length
 * (e.g., zero)"; we drop such a segment (counted as TCPOptErrs) and never read past the
 * header: every access is checked against the end of the options area first.
 */
#include <errno.h>
#include <string.h>

#include "lib/bytes.h"
#include "tcp_conn.h"

int hxs_tcp_opt__parse(const uint8_t *p, uint32_t len, struct hxs_tcp_opts *o)
{
	/* The layout nearly every segment of a connection with timestamps carries, RFC 7323
	 * Appendix A's <NOP, NOP, TS>: taken whole, without the walk below (which gives the
	 * same result for it). */
	if (len == 12 && p[0] == HXS_TCPOPT_NOP && p[1] == HXS_TCPOPT_NOP &&
	    p[2] == HXS_TCPOPT_TS && p[3] == 10) {
		o->has_mss = o->has_ws = o->sack_perm = 0;
		o->has_ts = 1;
		o->mss = 0;
		o->ws = 0;
		o->nsack = 0;
		memset(o->sack, 0, sizeof(o->sack));
		o->tsval = hxs_rd32(p + 4);
		o->tsecr = hxs_rd32(p + 8);
		return 0;
	}
	memset(o, 0, sizeof(*o));
	uint32_t i = 0;
	while (i < len) {
		uint8_t kind = p[i];
		if (kind == HXS_TCPOPT_EOL)
			break;
		if (kind == HXS_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -EINVAL;            /* no room for the length byte */
		uint8_t olen = p[i + 1];
		if (olen < 2 || olen > len - i)
			return -EINVAL;            /* length 0/1, or overruns the header */
		const uint8_t *v = p + i + 2;
		switch (kind) {
		case HXS_TCPOPT_MSS:
			if (olen != 4)
				return -EINVAL;
			o->has_mss = 1;
			o->mss = hxs_rd16(v);
			break;
		case HXS_TCPOPT_WS:
			if (olen != 3)
				return -EINVAL;
			o->has_ws = 1;
			/* RFC 7323 §2.3: "If a Window Scale option is received with a shift.cnt
			 * value larger than 14, the TCP SHOULD log the error but MUST use 14". */
			o->ws = v[0] > 14 ? 14 : v[0];
			break;
		case HXS_TCPOPT_SACK_PERM:
			if (olen != 2)
				return -EINVAL;
			o->sack_perm = 1;
			break;
		case HXS_TCPOPT_SACK:
			if (olen < 10 || (olen - 2) % 8)
				return -EINVAL;
			for (uint32_t k = 0; k < (uint32_t)(olen - 2) / 8 && o->nsack < 4; k++) {
				o->sack[o->nsack].start = hxs_rd32(v + 8 * k);
				o->sack[o->nsack].end = hxs_rd32(v + 8 * k + 4);
				o->nsack++;
			}
			break;
		case HXS_TCPOPT_TS:
			if (olen != 10)
				return -EINVAL;
			o->has_ts = 1;
			o->tsval = hxs_rd32(v);
			o->tsecr = hxs_rd32(v + 4);
			break;
		default:
			break;                     /* unknown options are skipped (§3.1) */
		}
		i += olen;
	}
	return 0;
}

uint32_t hxs_tcp_opt__write(uint8_t *p, const struct hxs_tcp_opts *o, int syn)
{
	uint32_t n = 0;
	if (syn && o->has_mss) {
		p[n++] = HXS_TCPOPT_MSS;
		p[n++] = 4;
		hxs_wr16(p + n, o->mss);
		n += 2;
	}
	if (o->has_ts) {
		if (syn && o->sack_perm) {
			p[n++] = HXS_TCPOPT_SACK_PERM;
			p[n++] = 2;
		} else {
			p[n++] = HXS_TCPOPT_NOP;
			p[n++] = HXS_TCPOPT_NOP;
		}
		p[n++] = HXS_TCPOPT_TS;
		p[n++] = 10;
		hxs_wr32(p + n, o->tsval);
		hxs_wr32(p + n + 4, o->tsecr);
		n += 8;
	} else if (syn && o->sack_perm) {
		p[n++] = HXS_TCPOPT_NOP;
		p[n++] = HXS_TCPOPT_NOP;
		p[n++] = HXS_TCPOPT_SACK_PERM;
		p[n++] = 2;
	}
	if (syn && o->has_ws) {
		p[n++] = HXS_TCPOPT_NOP;
		p[n++] = HXS_TCPOPT_WS;
		p[n++] = 3;
		p[n++] = o->ws;
	}
	if (!syn && o->nsack) {
		uint32_t room = (HXS_TCP_MAX_OPT - n - 4) / 8;
		uint32_t k = o->nsack < room ? o->nsack : room;
		if (k) {
			p[n++] = HXS_TCPOPT_NOP;
			p[n++] = HXS_TCPOPT_NOP;
			p[n++] = HXS_TCPOPT_SACK;
			p[n++] = (uint8_t)(2 + 8 * k);
			for (uint32_t j = 0; j < k; j++) {
				hxs_wr32(p + n, o->sack[j].start);
				hxs_wr32(p + n + 4, o->sack[j].end);
				n += 8;
			}
		}
	}
	return n;
}
