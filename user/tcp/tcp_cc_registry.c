/* tcp_cc_registry.c - the congestion-control algorithms by name (TCP_CONGESTION).
 *
 *   setsockopt(TCP_CONGESTION, "cubic") -> hxs_cc_find("cubic") -> &hxs_cc_cubic
 * Above the algorithms (tcp_cc_newreno.c, tcp_cc_cubic.c, tcp_cc_bbr.c), which share tcp_cc.c's pieces.
 */
#include <stddef.h>
#include <string.h>

#include "tcp_cc.h"

static const struct hxs_cc_ops *const algorithms[] = { &hxs_cc_newreno, &hxs_cc_cubic,
								   &hxs_cc_bbr };

const struct hxs_cc_ops *hxs_cc_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++)
		if (strcmp(algorithms[i]->name, name) == 0)
			return algorithms[i];
	return NULL;
}
