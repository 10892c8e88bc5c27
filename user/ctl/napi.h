/* napi.h - threaded NAPI of an interface, and where its kernel threads run.
 *
 * A veth with an XDP program (or GRO) receives in a NAPI context. Unthreaded, that context is
 * the softirq of the CPU that scheduled it: for a veth, the sending process's own CPU, inside
 * its transmit syscall, so the sender pays for the receiver's XDP program and AF_XDP copy.
 * Threaded (/sys/class/net/IF/threaded), each NAPI instance runs in a kernel thread named
 * "napi/IF-ID", which can be placed on a CPU of our choosing (sched_setaffinity).
 *
 *   hxs_napi__thread(ifname, cpu)   threaded on, every napi/IF-* thread pinned to cpu (-1: any)
 *   hxs_napi__unthread(ifname)      threaded off (while the NAPI instances still exist)
 *
 * The paths are those of the caller's network namespace (`ip netns exec` mounts its /sys).
 * A device without NAPI instances (a veth with neither XDP nor GRO) cannot go threaded: the
 * kernel refuses the write (-EOPNOTSUPP, -EIO on some kernels).
 */
#ifndef HXS_CTL_NAPI_H
#define HXS_CTL_NAPI_H

/* Returns the number of NAPI threads pinned (>= 1), or -errno: -ENOENT when the interface has
 * no NAPI thread after the write, -EINVAL for a CPU outside the machine. */
int hxs_napi__thread(const char *ifname, int cpu);
/* Returns 0 or -errno. */
int hxs_napi__unthread(const char *ifname);

#endif
