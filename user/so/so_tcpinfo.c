/* so_tcpinfo.c - struct hxs_tcp_info -> the kernel's struct tcp_info (so_tcpinfo.h). */
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "so_tcpinfo.h"

int hxs_so_tcp_info(const struct hxs_tcp_info *hi, void *val, socklen_t *len)
{
	struct tcp_info ti;

	if ((int)*len < 0)
		return -EINVAL;
	memset(&ti, 0, sizeof(ti));
	ti.tcpi_state = hi->state;
	ti.tcpi_retransmits = (uint8_t)hi->retransmits;
	ti.tcpi_rto = hi->rto_us;
	ti.tcpi_snd_mss = hi->snd_mss;
	ti.tcpi_rcv_mss = hi->rcv_mss;
	ti.tcpi_unacked = hi->unacked;
	ti.tcpi_rtt = hi->rtt_us;
	ti.tcpi_rttvar = hi->rttvar_us;
	ti.tcpi_snd_ssthresh = hi->snd_ssthresh;
	ti.tcpi_snd_cwnd = hi->snd_cwnd;
	ti.tcpi_total_retrans = (uint32_t)hi->total_retrans;
	ti.tcpi_ca_state = hi->ca_state;
	ti.tcpi_probes = hi->probes;
	ti.tcpi_backoff = hi->backoff;
	ti.tcpi_options = hi->options;
	ti.tcpi_snd_wscale = hi->snd_wscale & 15;
	ti.tcpi_rcv_wscale = hi->rcv_wscale & 15;
	ti.tcpi_sacked = hi->sacked;
	ti.tcpi_pmtu = hi->pmtu;
	ti.tcpi_advmss = hi->advmss;
	ti.tcpi_reordering = hi->reordering;
	if (*len > sizeof(ti))
		*len = sizeof(ti);
	memcpy(val, &ti, *len);
	return 0;
}
