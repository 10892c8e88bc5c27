/* perfrun.c - the one hxs-perf run of this process, with the options' defaults.
 *
 * user/bin/hxs-perf.c fills hxs_perf.o -> perfloop.c, perftcp.c, perfudp.c, perfreport.c
 * read and update hxs_perf (one thread, no locking)
 */
#include "perfrun.h"

struct hxs_perf_run hxs_perf = {
	.o = { .port = HXS_PERF_PORT, .mode = HXS_PERF_STREAM, .secs = 5, .msg_len = 64, .conns = 1 },
	.prog = { .name = "hxs-perf", .port = HXS_PERF_PORT },
	.lfd = -1,
	.ufd = -1,
};
