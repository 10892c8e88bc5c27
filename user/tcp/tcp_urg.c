/* tcp_urg.c - urgent data (RFC 9293 §3.8.5, MUST-30/MUST-31; RFC 6093), with the socket
 * semantics Linux gives it: one "out of band" byte, the last byte of a send with MSG_OOB.
 *
 * Send:    tcp_sock (MSG_OOB) -> hxs_tcp_conn__mark_urg()   SND.UP past the last byte queued
 *          hxs_tcp_send_seg() -> hxs_tcp_urg_out()           URG + pointer while SEG.SEQ < SND.UP
 *          process_ack() -> hxs_tcp_urg_acked()              urgent mode ends when acknowledged
 *          output_data(): Nagle does not hold urgent data back (urg_mode)
 * Receive: sync_input() sixth step -> hxs_tcp_urg_in()      RCV.UP (the urgent byte's number)
 *          after the text -> hxs_tcp_urg_fetch()            the byte taken aside once in order
 *          hxs_tcp_conn__recv() -> hxs_tcp_urg_readable()   stop at the mark, step over the byte
 *                                  hxs_tcp_urg_consumed()   past the mark: forgotten
 *          hxs_tcp_conn__recv_urg() (MSG_OOB), __atmark() (SIOCATMARK), __inq() (SIOCINQ),
 *          hxs_tcp_conn__events(): EPOLLPRI while the byte waits
 *
 * Pointer convention: RFC 6093 §3 observes that virtually every stack has the urgent pointer
 * point to the byte after the urgent data, as Linux does by default (tcp_stdurg = 0), and
 * §4 recommends applications not to rely on more than that; hxs does the same on both sides.
 */
#include <errno.h>

#include "tcp_conn.h"


void hxs_tcp_conn__mark_urg(struct hxs_tcp_conn *c)
{
	/* RFC 9293 §3.8.5: "the urgent pointer ... points to the sequence number of the octet
	 * following the urgent data" (RFC 6093 §4 and Linux: one past the last byte sent). */
	c->snd_up = hxs_tcp_snd_end(c);
	c->urg_mode = 1;
	hxs_tcp_mark_dirty(c);
}

void hxs_tcp_urg_out_slow(struct hxs_tcp_conn *c, uint32_t seq, uint8_t *flags, uint16_t *up)
{
	/* §3.8.5 MUST-30: "A TCP implementation MUST support a sequence of urgent data of any
	 * length": every segment before the pointer carries URG and the offset to it; one
	 * beyond the 16-bit field's reach says 0xFFFF (as Linux) until it comes near. */
	if (!c->urg_mode || !SEQ_LT(seq, c->snd_up))
		return;
	uint32_t d = c->snd_up - seq;
	if (d < 0x10000) {
		*up = (uint16_t)d;
		*flags |= HXS_TH_URG;
	} else if (SEQ_GT(seq + 0xFFFF, c->snd_nxt)) {
		*up = 0xFFFF;
		*flags |= HXS_TH_URG;
	}
}

void hxs_tcp_urg_in(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s)
{
	/* §3.10.7.4 sixth: "ESTABLISHED STATE, FIN-WAIT-1 STATE, FIN-WAIT-2 STATE: If the URG
	 * bit is set, RCV.UP <- max(RCV.UP,SEG.UP), and signal the user if the urgent pointer
	 * (RCV.UP) is in advance of the data consumed." Other states: "Ignore the URG." */
	if (!(s->flags & HXS_TH_URG) || !HXS_TCPS_CANRCVDATA(c->state))
		return;
	/* RFC 6093 §4 (Linux's tcp_stdurg = 0): the pointer is one past the urgent byte. */
	uint32_t ptr = s->up ? s->up - 1u : 0u;
	ptr += s->seq;
	uint32_t copied = hxs_tcp_copied_seq(c);
	/* already read, or pointing into data already taken (never replayed) */
	if (SEQ_GT(copied, ptr) || SEQ_LT(ptr, c->rcv_nxt))
		return;
	/* "max(RCV.UP, SEG.UP)": an older or the same pointer changes nothing */
	if (c->urg_state != HXS_URG_NONE && !SEQ_GT(ptr, c->rcv_up))
		return;
	/* A new pointer while the old urgent byte waits at the head of the stream, not in
	 * line: step over it now, or it would be read as data (the kernel does the same). */
	if (c->urg_state != HXS_URG_NONE && c->rcv_up == copied && !c->oobinline && c->rcv.len)
		hxs_tcp_ring__consume(c->tcp, &c->rcv, 1);
	c->urg_state = HXS_URG_NOTYET;
	c->rcv_up = ptr;
	MIB_INC(c->tcp, HxsTcpUrgRcvd);
}

void hxs_tcp_urg_fetch_slow(struct hxs_tcp_conn *c)
{
	if (c->urg_state != HXS_URG_NOTYET)
		return;
	uint32_t off = c->rcv_up - hxs_tcp_copied_seq(c);
	if (off >= c->rcv.len)
		return;                         /* not arrived in order yet */
	hxs_tcp_ring__read(&c->rcv, off, &c->urg_byte, 1);
	c->urg_state = HXS_URG_VALID;
	/* EPOLLPRI is new: notify reports it (conn_input) */
}

uint32_t hxs_tcp_urg_readable_slow(const struct hxs_tcp_conn *c, uint32_t avail, int *skip)
{
	*skip = 0;
	if (c->urg_state == HXS_URG_NONE)
		return avail;
	uint32_t off = c->rcv_up - hxs_tcp_copied_seq(c);
	if (off == 0) {
		/* at the mark: the urgent byte is not data unless SO_OOBINLINE (Linux's
		 * tcp_recvmsg steps over it, MSG_PEEK too) */
		if (!c->oobinline && avail)
			*skip = 1;
		return avail;
	}
	/* a read stops at the mark, so the next one starts there (SIOCATMARK) */
	return off < avail ? off : avail;
}

long hxs_tcp_conn__recv_urg(struct hxs_tcp_conn *c, void *buf, size_t len, unsigned flags)
{
	/* Linux's tcp_recv_urg(), in its order. */
	if (c->state == HXS_TCPS_LISTEN)
		return -ENOTCONN;
	if (c->oobinline || c->urg_state == HXS_URG_NONE || c->urg_state == HXS_URG_READ)
		return -EINVAL;
	if (c->state == HXS_TCPS_CLOSED && !c->fin_rcvd)
		return -ENOTCONN;
	if (c->urg_state == HXS_URG_VALID) {
		if (!(flags & HXS_TCP_PEEK)) {
			c->urg_state = HXS_URG_READ;
			hxs_tcp_notify(c);      /* EPOLLPRI is over */
		}
		if (!len)
			return 0;
		*(uint8_t *)buf = c->urg_byte;
		return 1;
	}
	if (c->state == HXS_TCPS_CLOSED || HXS_TCPS_HAVERCVDFIN(c->state) || c->rd_shut)
		return 0;
	/* announced, not arrived: never blocks ("this call should never block", the kernel) */
	return -EAGAIN;
}

int hxs_tcp_conn__atmark(const struct hxs_tcp_conn *c)
{
	return hxs_tcp_urg_atmark(c);
}

uint32_t hxs_tcp_conn__inq(const struct hxs_tcp_conn *c)
{
	if (c->state == HXS_TCPS_SYN_SENT || c->state == HXS_TCPS_SYN_RECEIVED)
		return 0;
	uint32_t copied = hxs_tcp_copied_seq(c);
	if (c->oobinline || c->urg_state == HXS_URG_NONE || SEQ_LT(c->rcv_up, copied) ||
	    !SEQ_LT(c->rcv_up, copied + c->rcv.len))
		return c->rcv.len;
	return c->rcv_up - copied;
}
