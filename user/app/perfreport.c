/* perfreport.c - what an hxs-perf run measured: text or one JSON object on stdout.
 *
 * hxs_perf_report_client(dur) -> hxs_hist_quantile(), hxs_perf_cpu_seconds() -> printf
 * hxs_perf_report_server() -> the server's totals, one line
 * hxs_perf_cpu_seconds() -> getrusage()
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "perfrun.h"

/* This process's CPU time (user + system) in seconds. */
double hxs_perf_cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}
void hxs_perf_report_client(double dur)
{
	bool stream = hxs_perf.o.mode == HXS_PERF_STREAM;
	uint64_t bytes = stream ? hxs_perf.res.bytes_recv + (hxs_perf.o.bidir ? hxs_perf.res.peer_recv : 0) : hxs_perf.res.txns * hxs_perf.o.msg_len * 2;
	double gbps = dur > 0 ? (double)bytes * 8 / dur / 1e9 : 0;
	double tps = dur > 0 ? (double)hxs_perf.res.txns / dur : 0;
	double cps = hxs_perf.o.mode == HXS_PERF_CRR && dur > 0 ? (double)hxs_perf.res.conns_done / dur : 0;
	double p50 = hxs_hist_quantile(&hxs_perf.res.hist, 0.50) / 1e3, p99 = hxs_hist_quantile(&hxs_perf.res.hist, 0.99) / 1e3;
	double p999 = hxs_hist_quantile(&hxs_perf.res.hist, 0.999) / 1e3;
	double mean = hxs_perf.res.hist.count ? (double)hxs_perf.res.hist.sum_ns / (double)hxs_perf.res.hist.count / 1e3 : 0;
	uint64_t retrans = stream && hxs_perf.o.reverse ? hxs_perf.res.peer_retrans : hxs_perf.res.retrans;
	bool verified = hxs_perf.res.all_verified && hxs_perf.res.errors == 0 &&
			(stream ? hxs_perf.res.bytes_recv > 0 : hxs_perf.res.txns > 0);
	double cpu = dur > 0 ? (hxs_perf_cpu_seconds() - hxs_perf.cpu_start) / dur * 100 : 0;

	if (hxs_perf.o.json) {
		printf("{\"mode\":\"%s\",\"stack\":\"%s\",\"direction\":\"%s\",\"conns\":%d,\"msg_len\":%u,"
		       "\"duration_s\":%.3f,\"bytes\":%llu,\"throughput_gbps\":%.3f,"
		       "\"transactions\":%llu,\"transactions_per_s\":%.1f,\"connections_per_s\":%.1f,"
		       "\"latency_us\":{\"p50\":%.2f,\"p99\":%.2f,\"p999\":%.2f,\"mean\":%.2f},"
		       "\"retransmits\":%llu,\"verified\":%s,\"errors\":%llu,"
		       "\"cpu_percent\":%.1f,\"busy_poll\":%s,\"count\":%llu,\"seed\":%llu",
		       hxs_perf_mode_name(hxs_perf.o.mode), hxs_appnet__name(hxs_perf.an),
		       stream && !hxs_perf.o.bidir ? (hxs_perf.o.reverse ? "server-to-client" : "client-to-server") : "both",
		       hxs_perf.o.conns, stream ? 0 : hxs_perf.o.msg_len, dur, (unsigned long long)bytes, gbps,
		       (unsigned long long)hxs_perf.res.txns, tps, cps, p50, p99, p999, mean,
		       (unsigned long long)retrans, verified ? "true" : "false",
		       (unsigned long long)hxs_perf.res.errors, cpu, hxs_perf.an->busy_poll ? "true" : "false",
		       (unsigned long long)hxs_perf.o.count, (unsigned long long)hxs_perf.seed_base);
		if (stream && hxs_perf.o.bidir)
			printf(",\"client_to_server\":{\"sent\":%llu,\"received\":%llu,\"verified\":%s,"
			       "\"first_mismatch\":%lld,\"retransmits\":%llu},"
			       "\"server_to_client\":{\"sent\":%llu,\"received\":%llu,\"verified\":%s,"
			       "\"first_mismatch\":%lld,\"retransmits\":%llu}",
			       (unsigned long long)hxs_perf.res.bytes_sent, (unsigned long long)hxs_perf.res.peer_recv,
			       verified && hxs_perf.res.out_ok ? "true" : "false",
			       hxs_perf.res.out_mismatch == UINT64_MAX ? -1LL : (long long)hxs_perf.res.out_mismatch,
			       (unsigned long long)hxs_perf.res.retrans,
			       (unsigned long long)hxs_perf.res.peer_bytes, (unsigned long long)hxs_perf.res.bytes_recv,
			       verified && hxs_perf.res.in_ok ? "true" : "false",
			       hxs_perf.res.in_mismatch == UINT64_MAX ? -1LL : (long long)hxs_perf.res.in_mismatch,
			       (unsigned long long)hxs_perf.res.peer_retrans);
		else if (stream)
			printf(",\"sender\":{\"side\":\"%s\",\"bytes\":%llu,\"retransmits\":%llu},"
			       "\"receiver\":{\"side\":\"%s\",\"bytes\":%llu,\"verified\":%s,\"first_mismatch\":%lld}",
			       hxs_perf.o.reverse ? "server" : "client",
			       (unsigned long long)(hxs_perf.o.reverse ? hxs_perf.res.peer_bytes : hxs_perf.res.bytes_sent),
			       (unsigned long long)retrans, hxs_perf.o.reverse ? "client" : "server",
			       (unsigned long long)hxs_perf.res.bytes_recv, verified ? "true" : "false",
			       hxs_perf.res.first_mismatch == UINT64_MAX ? -1LL : (long long)hxs_perf.res.first_mismatch);
		if (hxs_perf.o.mode == HXS_PERF_UDP)
			printf(",\"udp_lost\":%llu,\"udp_late\":%llu", (unsigned long long)hxs_perf.res.udp_lost,
			       (unsigned long long)hxs_perf.res.udp_late);
		printf("}\n");
		fflush(stdout);
		return;
	}
	printf("hxs-perf: %s on %s, %d connection%s, %.2f s\n", hxs_perf_mode_name(hxs_perf.o.mode), hxs_appnet__describe(hxs_perf.an),
	       hxs_perf.o.conns, hxs_perf.o.conns == 1 ? "" : "s", dur);
	if (stream && hxs_perf.o.bidir) {
		printf("  client -> server: %llu bytes sent, %llu received, %llu retransmits, %s\n",
		       (unsigned long long)hxs_perf.res.bytes_sent, (unsigned long long)hxs_perf.res.peer_recv,
		       (unsigned long long)hxs_perf.res.retrans,
		       verified && hxs_perf.res.out_ok ? "every byte verified" : "VERIFICATION FAILED");
		printf("  server -> client: %llu bytes sent, %llu received, %llu retransmits, %s\n",
		       (unsigned long long)hxs_perf.res.peer_bytes, (unsigned long long)hxs_perf.res.bytes_recv,
		       (unsigned long long)hxs_perf.res.peer_retrans,
		       verified && hxs_perf.res.in_ok ? "every byte verified" : "VERIFICATION FAILED");
		printf("  throughput %.3f Gbit/s (both directions)\n", gbps);
	} else if (stream) {
		printf("  sender (%s):   %llu bytes, %llu retransmits\n", hxs_perf.o.reverse ? "server" : "client",
		       (unsigned long long)(hxs_perf.o.reverse ? hxs_perf.res.peer_bytes : hxs_perf.res.bytes_sent),
		       (unsigned long long)retrans);
		printf("  receiver (%s): %llu bytes, %s\n", hxs_perf.o.reverse ? "client" : "server",
		       (unsigned long long)hxs_perf.res.bytes_recv,
		       verified ? "every byte verified" : "VERIFICATION FAILED");
		printf("  throughput %.3f Gbit/s\n", gbps);
	} else {
		printf("  %llu transactions, %.1f/s", (unsigned long long)hxs_perf.res.txns, tps);
		if (hxs_perf.o.mode == HXS_PERF_CRR)
			printf(", %.1f connections/s", cps);
		if (hxs_perf.o.mode == HXS_PERF_UDP)
			printf(", %llu lost, %llu late", (unsigned long long)hxs_perf.res.udp_lost,
			       (unsigned long long)hxs_perf.res.udp_late);
		printf("\n  latency us: p50 %.1f  p99 %.1f  p999 %.1f  mean %.1f\n", p50, p99, p999, mean);
		if (hxs_perf.o.mode != HXS_PERF_UDP)
			printf("  retransmits %llu\n", (unsigned long long)retrans);
	}
	printf("  client CPU %.0f%%%s\n", cpu, hxs_perf.an->busy_poll ? " (busy polling)" : "");
	if (hxs_perf.res.errors)
		printf("  %llu error(s)\n", (unsigned long long)hxs_perf.res.errors);
	fflush(stdout);
}


/* The server's totals, one line on stdout. */
void hxs_perf_report_server(void)
{
	printf("hxs-perf: server connections accepted %llu closed %llu, streams verified %llu "
	       "failed %llu, crr %llu, udp echoed %llu malformed %llu, errors %llu\n",
	       (unsigned long long)hxs_perf.srv.accepted, (unsigned long long)hxs_perf.srv.closed,
	       (unsigned long long)hxs_perf.srv.streams_ok, (unsigned long long)hxs_perf.srv.streams_bad,
	       (unsigned long long)hxs_perf.srv.crr, (unsigned long long)hxs_perf.srv.udp_in,
	       (unsigned long long)hxs_perf.srv.udp_bad, (unsigned long long)hxs_perf.srv.errors);
	fflush(stdout);
}
