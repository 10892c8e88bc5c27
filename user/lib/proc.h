/* proc.h - what /proc says about another process.
 *
 * A pid alone does not name a process for long: once it exits, the kernel hands the number to
 * the next one. Who records an owner (the stack writing a statistics region, the process that
 * attached the XDP program) records its pid together with its start time; whoever later finds
 * the record reads the start time of that pid again, and the two match only while the owner
 * itself lives, not a process that got the pid recycled.
 *
 *   rec.pid = getpid(); rec.start = hxs_proc__start_time(rec.pid);
 *   ... later, maybe from another process:
 *   alive = hxs_proc__start_time(rec.pid) == rec.start;
 */
#ifndef HXS_PROC_H
#define HXS_PROC_H

#include <stdint.h>
#include <sys/types.h>

/* Field 22 of /proc/PID/stat: the time the process started after boot, in clock ticks.
 * 0 when the process is gone (or /proc cannot be read). */
uint64_t hxs_proc__start_time(pid_t pid);

#endif
