/* pd_link.c - packets between packetdrill and the stack, over the in-memory Ethernet link.
 *
 * netdev_send:    IP packet (IPv4 or IPv6, as packetdrill's --ip_version) -> Ethernet header
 *                 (to the stack's MAC, from the gateway's, the version's ethertype) ->
 *                 hxs_io_mem__inject() -> pd_turn(): the stack takes it in, answers at once
 * pd_drain:       after every turn: hxs_io_mem__take() -> Ethernet header off -> the outgoing
 *                 queue, stamped with the virtual time of the turn that sent it
 * netdev_receive: the oldest queued packet; with none queued, virtual time moves to the
 *                 stack's next deadline (or a waiting call's) and the stack runs there, so a
 *                 retransmission leaves at its exact virtual time. After PD_HORIZON_US of
 *                 virtual time without a packet it says why on stderr and returns a packet of
 *                 0 bytes, which packetdrill reports as an error of the script's line.
 *
 * packetdrill checks the checksums of what it receives: the stack computes them (no offload
 * on this link), nothing here touches a byte of the IP packet.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pd.h"

#define ETH_HLEN_ 14

int pd_drain(struct pd *pd)
{
	int n = 0, len;

	while ((len = hxs_io_mem__take(pd->io, pd->frame, sizeof(pd->frame))) >= 0) {
		struct pd_pkt *p;

		if (len < ETH_HLEN_ + 20 ||
		    !((pd->frame[12] == 0x08 && pd->frame[13] == 0x00) ||
		      (pd->frame[12] == 0x86 && pd->frame[13] == 0xdd)))
			continue;       /* not IPv4 or IPv6: nothing packetdrill could match */
		if (pd->nout >= PD_OUT_MAX || !(p = malloc(sizeof(*p) + (size_t)len - ETH_HLEN_))) {
			if (!pd->out_dropped++)
				fprintf(stderr, "hxs-packetdrill: %u packets sent and not read by the script:"
					" dropping more\n", pd->nout);
			continue;
		}
		p->next = NULL;
		p->t = pd->now;
		p->len = (uint32_t)len - ETH_HLEN_;
		memcpy(p->data, pd->frame + ETH_HLEN_, p->len);
		*pd->out_tail = p;
		pd->out_tail = &p->next;
		pd->nout++;
		n++;
	}
	return n;
}

void pd_out_free(struct pd *pd)
{
	while (pd->out_head) {
		struct pd_pkt *p = pd->out_head;

		pd->out_head = p->next;
		free(p);
	}
	pd->out_tail = &pd->out_head;
	pd->nout = 0;
}

void pd_addr_hint(struct pd *pd, int family, const void *addr, const char *what)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const void *own = family == AF_INET ? (const void *)&pd->cfg.addr : pd->cfg.addr6;

	/* an IPv4-mapped IPv6 address (ipv4-mapped-ipv6 scripts) is the IPv4 one */
	if (family == AF_INET6 && !memcmp(addr, mapped, 12)) {
		family = AF_INET;
		addr = (const uint8_t *)addr + 12;
		own = &pd->cfg.addr;
	}
	if (!memcmp(addr, own, family == AF_INET ? 4 : 16) || pd->warned_addr++)
		return;
	inet_ntop(family, addr, a, sizeof(a));
	inet_ntop(family, own, b, sizeof(b));
	fprintf(stderr, "hxs-packetdrill: %s %s, but the stack is %s: run packetdrill with"
		" --local_ip=%s (or give the library --so_flags=local_ip=%s)\n", what, a, b, b, a);
}

int pd_netdev_send(void *u, const void *buf, size_t n)
{
	struct pd *pd = u;
	const uint8_t *ip = buf;
	int v6 = n && (ip[0] >> 4) == 6;
	int err;

	pd_lock(pd);
	if (n < (v6 ? 40u : 20u) || ((ip[0] >> 4) != 4 && !v6)) {
		fprintf(stderr, "hxs-packetdrill: an IPv%d packet of %zu bytes: the stack serves IPv4"
			" and IPv6\n", n ? ip[0] >> 4 : 0, n);
		err = -EAFNOSUPPORT;
		goto out;
	}
	if (n + ETH_HLEN_ > sizeof(pd->frame)) {
		err = -EMSGSIZE;
		goto out;
	}
	/* the destination: IPv4 at 16, IPv6 at 24 (RFC 8200 §3) */
	pd_addr_hint(pd, v6 ? AF_INET6 : AF_INET, ip + (v6 ? 24 : 16), "a packet to");
	memcpy(pd->frame, pd->cfg.mac, 6);
	memcpy(pd->frame + 6, pd->gw_mac, 6);
	pd->frame[12] = v6 ? 0x86 : 0x08;
	pd->frame[13] = v6 ? 0xdd : 0x00;
	memcpy(pd->frame + ETH_HLEN_, buf, n);
	err = hxs_io_mem__inject(pd->io, pd->frame, (uint32_t)(n + ETH_HLEN_));
	if (err == -ENOBUFS) {
		/* the link's pool is full of frames the stack has not taken in yet */
		pd_turn(pd, 0);
		err = hxs_io_mem__inject(pd->io, pd->frame, (uint32_t)(n + ETH_HLEN_));
	}
	pd_trace(pd, "netdev_send %zu bytes: %d", n, err);
	if (!err)
		pd_turn(pd, 1);
out:
	pd_unlock(pd);
	return (int)pd_ret(err);
}

int pd_netdev_receive(void *u, void *buf, size_t *n, long long *t_us)
{
	struct pd *pd = u;
	uint64_t limit;
	struct pd_pkt *p;

	pd_lock(pd);
	pd_turn(pd, 0);
	limit = pd->now + PD_HORIZON_US;
	while (!pd->out_head) {
		if (pd_step(pd, limit)) {
			fprintf(stderr, "hxs-packetdrill: the stack sent nothing for %llu s of virtual time"
				" (from %.6f s; no timer due before)\n",
				(unsigned long long)(PD_HORIZON_US / 1000000),
				(double)(limit - PD_HORIZON_US - PD_EPOCH_US) / 1e6);
			*n = 0;
			*t_us = (long long)pd->now;
			pd_unlock(pd);
			return 0;
		}
	}
	p = pd->out_head;
	pd->out_head = p->next;
	if (!pd->out_head)
		pd->out_tail = &pd->out_head;
	pd->nout--;
	if (p->len > *n)
		fprintf(stderr, "hxs-packetdrill: a packet of %u bytes cut to %zu\n", p->len, *n);
	else
		*n = p->len;
	memcpy(buf, p->data, *n);
	*t_us = (long long)p->t;
	pd_trace(pd, "netdev_receive %zu bytes sent at %.6f", *n, (double)(p->t - PD_EPOCH_US) / 1e6);
	free(p);
	pd_unlock(pd);
	return 0;
}
