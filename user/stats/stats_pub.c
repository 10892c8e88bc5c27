/* stats_pub.c - gathers a stack's counters and sockets into its statistics region.
 *
 * hxs_stats_pub__tick() -> (due?) -> publish() -> pub_counters(): MIB, registered tables, io
 *                                                  -> for each fd: pub_sock() -> conn_update()
 *                                                  -> slots of fds gone: hxs_shm__conn_free()
 *                       -> (not due, but the turn did work) arm a wheel timer for the end of
 *                          the period, so a stack that then sleeps still publishes its last
 *                          state: on_timer() -> publish()
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hxs/hxs.h"
#include "sock/sock.h"
#include "net/stack.h"
#include "stats_pub.h"
#include "hxs/stats.h"

/* The names the stack prints at exit (hxs_stack__print_counters, ctl print_counters), so
 * `hxs stat` and a program's last words agree; frame accounting: Total == Free + RxQueued +
 * TxQueued + Held. */
static const char *const io_names[] = {
	"HxsIoRxFrames", "HxsIoTxFrames", "HxsIoRxBytes", "HxsIoTxBytes", "HxsIoFramesTotal",
	"HxsIoFramesFree", "HxsIoFramesRxQueued", "HxsIoFramesTxQueued", "HxsIoFramesHeld",
	"HxsIoRxDropped", "XskRxRingFull", "XskFillEmpty", "XskTxRingFull", "HxsIoTxWakeups",
	"HxsIoRxWakeups",
};
#define IO_N (sizeof(io_names) / sizeof(io_names[0]))

struct hxs_stats_pub {
	struct hxs_timer timer;              /* first: the wheel hands it back to us */
	struct hxs_stack *st;
	struct hxs_shm *shm;
	uint64_t last_us;
	int published;                       /* a first publish happened */
	int fired;                           /* the timer published during this turn */
	uint8_t live[HXS_SHM_MAX_CONNS];     /* slot holds a record */
};

static void publish(struct hxs_stats_pub *p, uint64_t now_us);

static void on_timer(struct hxs_timer *t, uint64_t now)
{
	struct hxs_stats_pub *p = (struct hxs_stats_pub *)t;

	publish(p, now);
	p->fired = 1;
}

int hxs_stats_pub__open(struct hxs_stats_pub **out, struct hxs_stack *st, const char *dir,
			const char *name, const char *ifname)
{
	struct hxs_stats_pub *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	err = hxs_shm__open(&p->shm, dir, name, ifname, st->desc);
	if (err) {
		free(p);
		return err;
	}
	p->st = st;
	hxs_timer__init(&p->timer, on_timer);
	*out = p;
	return 0;
}

void hxs_stats_pub__close(struct hxs_stats_pub *p)
{
	if (!p)
		return;
	if (hxs_timer__armed(&p->timer))
		hxs_wheel__cancel(&p->st->wheel, &p->timer);
	hxs_shm__close(p->shm);
	free(p);
}

const char *hxs_stats_pub__path(const struct hxs_stats_pub *p)
{
	return hxs_shm__path(p->shm);
}

static void pub_sock(struct hxs_stats_pub *p, int fd)
{
	struct hxs_stack *st = p->st;
	struct hxs_sock *sk = fd < st->sockets->nsocks ? st->sockets->socks[fd] : NULL;
	struct hxs_shm_conn_info ci;

	if (fd < 0 || fd >= HXS_SHM_MAX_CONNS)
		return;
	if (!sk) {
		if (p->live[fd]) {
			hxs_shm__conn_free(p->shm, (unsigned)fd);
			p->live[fd] = 0;
		}
		return;
	}
	memset(&ci, 0, sizeof(ci));
	{
		/* 16 bytes as the region keeps them; an AF_INET socket's unset address as 0.0.0.0 */
		struct hxs_addr l = sk->laddr, r = sk->raddr;

		if (sk->family == AF_INET && hxs_addr_is_any6(l))
			l = hxs_addr4(0);
		if (sk->family == AF_INET && hxs_addr_is_any6(r))
			r = hxs_addr4(0);
		memcpy(ci.laddr, l.b, 16);
		memcpy(ci.raddr, r.b, 16);
	}
	ci.lport = sk->lport;
	ci.rport = sk->rport;
	ci.owner = sk->rx_owner;
	ci.updated_us = hxs_stack__now(st);
	ci.ssthresh = UINT32_MAX;
	if (sk->type == SOCK_STREAM) {
		struct hxs_tcp_info ti;
		socklen_t len = sizeof(ti);
		ci.proto = IPPROTO_TCP;
		ci.state = HXS_SHM_UNCONN;
		if (hxs_getsockopt(st, fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 && ti.state) {
			uint32_t mss = ti.snd_mss ? ti.snd_mss : 1;
			ci.state = ti.state < HXS_SHM_STATE_MAX ? ti.state : HXS_SHM_UNCONN;
			ci.rtt_us = ti.rtt_us;
			ci.rttvar_us = ti.rttvar_us;
			ci.rto_us = ti.rto_us;
			ci.mss = ti.snd_mss;
			ci.cwnd = ti.snd_cwnd * mss;
			/* Linux reports an unset ssthresh as TCP_INFINITE_SSTHRESH (0x7fffffff) */
			if (ti.snd_ssthresh < 0x7fffffffu / mss)
				ci.ssthresh = ti.snd_ssthresh * mss;
			ci.snd_wnd = ti.snd_wnd;
			ci.rcv_wnd = ti.rcv_wnd;
			ci.backoff = (uint8_t)(ti.retransmits > 255 ? 255 : ti.retransmits);
			ci.total_retrans = ti.total_retrans;
			ci.bytes_sent = ti.bytes_sent;
			ci.bytes_acked = ti.bytes_acked;
			ci.bytes_received = ti.bytes_received;
			ci.segs_out = ti.segs_out;
			ci.segs_in = ti.segs_in;
			ci.snd_queue = ti.snd_queue;
			ci.rcv_queue = ti.rcv_queue;
			ci.min_rtt_us = ti.min_rtt;
			ci.pacing_rate = ti.pacing_rate;
			ci.delivery_rate = ti.delivery_rate;
		}
	} else {
		ci.proto = IPPROTO_UDP;
		ci.state = (sk->flags & HXS_SOCK_F_CONNECTED) ? HXS_SHM_ESTAB : HXS_SHM_UNCONN;
	}
	if (hxs_shm__conn_update(p->shm, (unsigned)fd, &ci) == 0)
		p->live[fd] = 1;
}

void hxs_stats_pub__sock(struct hxs_stats_pub *p, int fd)
{
	if (p)
		pub_sock(p, fd);
}

static void pub_counters(struct hxs_stats_pub *p, uint64_t now)
{
	struct hxs_stack *st = p->st;
	char group[16];

	int mib_listed = 0;

	for (unsigned i = 0; i < st->nctr; i++)
		mib_listed |= st->ctr[i].vals == st->mib.v;
	if (!mib_listed)
		hxs_shm__publish_counters(p->shm, "Stack", hxs_mib_names, st->mib.v, HXS_MIB_MAX, now);
	for (unsigned i = 0; i < st->nctr; i++) {
		if (st->ctr[i].vals == st->mib.v)
			snprintf(group, sizeof(group), "Stack");
		else
			snprintf(group, sizeof(group), "Table%u", i);
		hxs_shm__publish_counters(p->shm, group, st->ctr[i].names, st->ctr[i].vals,
					  st->ctr[i].n, now);
	}
	if (st->io && st->io->ops->get_stats) {
		struct hxs_io_stats s;
		uint64_t v[IO_N];
		st->io->ops->get_stats(st->io, &s);
		v[0] = s.rx_frames;
		v[1] = s.tx_frames;
		v[2] = s.rx_bytes;
		v[3] = s.tx_bytes;
		v[4] = s.frames_total;
		v[5] = s.frames_free;
		v[6] = s.frames_rx_queued;
		v[7] = s.frames_tx_queued;
		v[8] = s.frames_held;
		v[9] = s.rx_dropped;
		v[10] = s.rx_ring_full;
		v[11] = s.fill_empty;
		v[12] = s.tx_ring_full;
		v[13] = s.tx_wakeups;
		v[14] = s.rx_wakeups;
		hxs_shm__publish_counters(p->shm, "HxsIo", io_names, v, IO_N, now);
	}
}

static void publish(struct hxs_stats_pub *p, uint64_t now_us)
{
	p->published = 1;
	p->last_us = now_us;
	pub_counters(p, now_us);
	int n = p->st->sockets->nsocks < HXS_SHM_MAX_CONNS ? p->st->sockets->nsocks : HXS_SHM_MAX_CONNS;
	for (int fd = 0; fd < n; fd++)
		pub_sock(p, fd);
	for (int fd = n; fd < HXS_SHM_MAX_CONNS; fd++)
		if (p->live[fd])
			pub_sock(p, fd);
}

void hxs_stats_pub__tick(struct hxs_stats_pub *p, uint64_t now_us, int events)
{
	if (!p)
		return;
	if (p->fired) {         /* our own timer was one of the turn's events */
		p->fired = 0;
		events--;
	}
	if (!p->published || now_us - p->last_us >= HXS_SHM_PUBLISH_US || events < 0) {
		if (hxs_timer__armed(&p->timer))
			hxs_wheel__cancel(&p->st->wheel, &p->timer);
		publish(p, now_us);
	} else if (events > 0 && !hxs_timer__armed(&p->timer)) {
		hxs_wheel__arm(&p->st->wheel, &p->timer, p->last_us + HXS_SHM_PUBLISH_US);
	}
}
