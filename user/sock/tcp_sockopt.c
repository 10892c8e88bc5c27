/* tcp_sockopt.c - a TCP socket's options and ioctls: what socket.c's setsockopt(),
 * getsockopt() and ioctl() leave to the protocol (struct hxs_proto_ops of tcp_sock.c).
 *
 * setsockopt: socket.c stored SOL_SOCKET values -> hxs_tcp_sock__setsockopt() passes on what
 *             the core uses; IP_TOS/IP_TTL, IPPROTO_TCP -> hxs_tcp_conn__setopt() /
 *             hxs_tcp_conn__set_cc()
 * getsockopt: hxs_tcp_sock__getsockopt() -> hxs_tcp_conn__getopt(), hxs_tcp_conn__info()
 *             (TCP_INFO), hxs_tcp_conn__cc() (TCP_CONGESTION)
 * ioctl:      hxs_tcp_sock__ioctl() -> hxs_tcp_conn__atmark() / __inq() / __info()
 */
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "tcp/tcp.h"
#include "tcp/tcp_conn.h"   /* enum hxs_tcp_state for hxs_tcp_conn__state() */

#include "tcp_sock_priv.h"

static int get_int(const void *val, socklen_t len, int *v)
{
	if (!val)
		return -EFAULT;
	if (len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(v, val, sizeof(int));
	return 0;
}

int hxs_tcp_sock__setsockopt(struct hxs_sock *sk, int level, int name, const void *val,
			      socklen_t len)
{
	struct tcp_sock *ts = tcp_sk(sk);
	int v = 0, err;

	if (!ts->c)
		return level == SOL_SOCKET ? 0 : -EINVAL;
	if (level == SOL_SOCKET) {
		/* socket.c stored the generic value; pass on what the core uses */
		switch (name) {
		case SO_RCVBUF:
			/* the window scale is fixed at the handshake: later changes are ignored */
			hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_RCVBUF, (int)sk->rcvbuf);
			return 0;
		case SO_SNDBUF:
			hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_SNDBUF, (int)sk->sndbuf);
			return 0;
		case SO_KEEPALIVE:
			return hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_KEEPALIVE, !!(sk->flags & HXS_SOCK_F_KEEPALIVE));
		case SO_LINGER:
			return hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_LINGER,
						    sk->linger.l_onoff ? sk->linger.l_linger : -1);
		case SO_OOBINLINE:
			return hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_OOBINLINE,
						    !!(sk->flags & HXS_SOCK_F_OOBINLINE));
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == IPPROTO_IP && (name == IP_TOS || name == IP_TTL)) {
		uint8_t ttl;

		err = hxs_sock__ip_optval(val, len, &v);
		if (err)
			return err;
		if (name == IP_TOS)
			return hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_TOS, v);
		err = hxs_sock__ttl_parse(v, &ttl);
		return err ? err : hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_TTL, ttl);
	}
	if (level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	if (name == TCP_CONGESTION) {
		char cc[16] = { 0 };

		if (!val)
			return -EFAULT;
		memcpy(cc, val, len < sizeof(cc) - 1 ? len : sizeof(cc) - 1);
		return hxs_tcp_conn__set_cc(ts->c, cc);
	}
	err = get_int(val, len, &v);
	if (err)
		return err;
	switch (name) {
	case TCP_NODELAY:
		return hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_NODELAY, v);
	case TCP_KEEPIDLE:
		return hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_KEEPIDLE, v);
	case TCP_KEEPINTVL:
		return hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_KEEPINTVL, v);
	case TCP_KEEPCNT:
		return hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_KEEPCNT, v);
	case TCP_MAXSEG:
		return hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_MAXSEG, v);
	case TCP_USER_TIMEOUT:
		return hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_USER_TIMEOUT, v);
	case TCP_CORK:
		return hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_CORK, v);
	case TCP_QUICKACK:
		return hxs_tcp_conn__setopt(ts->c, HXS_TCP_O_QUICKACK, v);
	default:
		return -ENOPROTOOPT;
	}
}

static int put_int(int v, void *val, socklen_t *len)
{
	if ((int)*len < 0)
		return -EINVAL;
	if (*len > sizeof(int))
		*len = sizeof(int);
	memcpy(val, &v, *len);
	return 0;
}

int hxs_tcp_sock__getsockopt(struct hxs_sock *sk, int level, int name, void *val, socklen_t *len)
{
	struct tcp_sock *ts = tcp_sk(sk);
	int v = 0, err;
	enum hxs_tcp_opt o;

	if (ts->c && level == IPPROTO_IP && name == IP_TOS) {
		err = hxs_tcp_conn__getopt(ts->c, HXS_TCP_O_TOS, &v);
		return err ? err : put_int(v, val, len);
	}
	if (ts->c && level == IPPROTO_IP && name == IP_TTL) {
		/* the route's hop limit when none was set: hxs's IP layer sends 64 */
		err = hxs_tcp_conn__getopt(ts->c, HXS_TCP_O_TTL, &v);
		return err ? err : hxs_sock__ip_put(v ? v : HXS_IP_TTL, val, len);
	}
	if (level != IPPROTO_TCP || !ts->c)
		return -ENOPROTOOPT;
	switch (name) {
	case TCP_INFO: {
		struct hxs_tcp_info info;

		if ((int)*len < 0)
			return -EINVAL;
		hxs_tcp_conn__info(ts->c, &info);
		if (*len > sizeof(info))
			*len = sizeof(info);
		memcpy(val, &info, *len);
		return 0;
	}
	case TCP_CONGESTION: {
		/* Linux's do_tcp_getsockopt(): the name, truncated to the length given (at most
		 * TCP_CA_NAME_MAX, 16), NUL-padded */
		char ca[16] = { 0 };

		if ((int)*len < 0)
			return -EINVAL;
		strncpy(ca, hxs_tcp_conn__cc(ts->c), sizeof(ca) - 1);
		if (*len > sizeof(ca))
			*len = sizeof(ca);
		memcpy(val, ca, *len);
		return 0;
	}
	case TCP_NODELAY:   o = HXS_TCP_O_NODELAY; break;
	case TCP_KEEPIDLE:  o = HXS_TCP_O_KEEPIDLE; break;
	case TCP_KEEPINTVL: o = HXS_TCP_O_KEEPINTVL; break;
	case TCP_KEEPCNT:   o = HXS_TCP_O_KEEPCNT; break;
	case TCP_MAXSEG:    o = HXS_TCP_O_MAXSEG; break;
	case TCP_USER_TIMEOUT: o = HXS_TCP_O_USER_TIMEOUT; break;
	case TCP_CORK:      o = HXS_TCP_O_CORK; break;
	case TCP_QUICKACK:  o = HXS_TCP_O_QUICKACK; break;
	default:
		return -ENOPROTOOPT;
	}
	err = hxs_tcp_conn__getopt(ts->c, o, &v);
	if (err)
		return err;
	return put_int(v, val, len);
}

/* SIOCATMARK, SIOCINQ (tcp_inq), SIOCOUTQ. */
int hxs_tcp_sock__ioctl(struct hxs_sock *sk, unsigned long req, int *arg)
{
	struct tcp_sock *ts = tcp_sk(sk);
	struct hxs_tcp_info info;

	if (!ts->c)
		return req == SIOCATMARK || req == SIOCINQ || req == SIOCOUTQ ? -EINVAL : -ENOTTY;
	switch (req) {
	case SIOCATMARK:
		*arg = hxs_tcp_conn__atmark(ts->c);
		return 0;
	case SIOCINQ:
	case SIOCOUTQ:
		if (hxs_tcp_conn__state(ts->c) == HXS_TCPS_LISTEN)
			return -EINVAL;
		if (req == SIOCINQ) {
			*arg = (int)hxs_tcp_conn__inq(ts->c);
		} else {
			hxs_tcp_conn__info(ts->c, &info);
			*arg = (int)info.snd_queue;
		}
		return 0;
	default:
		return -ENOTTY;
	}
}
