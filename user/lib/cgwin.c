/* cgwin.c - callgrind windows (cgwin.h): collection toggled on at an RX burst with frames,
 * off at the next kick or at an empty look; counts kept for the exit line. Empty without
 * HXS_CGWIN (make CGWIN=1). */
#ifdef HXS_CGWIN
#include <stdio.h>
#include <valgrind/callgrind.h>

#include "cgwin.h"

static int on;
static unsigned long windows, aborted;

void hxs_cgwin__rx(int frames)
{
	if (frames > 0 && !on) {
		on = 1;
		windows++;
		CALLGRIND_TOGGLE_COLLECT;
	} else if (frames <= 0 && on) {
		on = 0;
		aborted++;
		CALLGRIND_TOGGLE_COLLECT;
	}
}

void hxs_cgwin__kick(void)
{
	if (on) {
		on = 0;
		CALLGRIND_TOGGLE_COLLECT;
	}
}

static void __attribute__((destructor)) report(void)
{
	fprintf(stderr, "CGWINDOWS %lu aborted %lu\n", windows, aborted);
}
#else
typedef int hxs_cgwin_empty;    /* ISO C: a translation unit is not empty */
#endif
