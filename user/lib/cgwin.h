/* cgwin.h - callgrind windows over a request/response exchange's critical path (opt-in).
 *
 * Built with `make CGWIN=1` (HXS_CGWIN; use a BUILD of its own, it needs valgrind's headers),
 * a stack counts instructions only from the RX burst that returns frames (loop.c:
 * hxs_cgwin__rx) to the next TX kick (xsk.c, before its sendto: hxs_cgwin__kick), when it runs
 * under `valgrind --tool=callgrind --collect-atstart=no`: in a ping-pong, one side's path from
 * the request frame to the answer on the wire. An empty look at the RX ring while a window is
 * open closes it (frames that caused no kick: "aborted"). At exit the process says
 * "CGWINDOWS <windows> aborted <aborted>" on stderr; the callgrind total over the windows is
 * the instructions of that many paths. scripts/cg_window.sh runs both hxs-perf ends so.
 * Without HXS_CGWIN these are empty and nothing is counted.
 */
#ifndef HXS_LIB_CGWIN_H
#define HXS_LIB_CGWIN_H

#ifdef HXS_CGWIN
void hxs_cgwin__rx(int frames);
void hxs_cgwin__kick(void);
#else
static inline void hxs_cgwin__rx(int frames) { (void)frames; }
static inline void hxs_cgwin__kick(void) { }
#endif

#endif
