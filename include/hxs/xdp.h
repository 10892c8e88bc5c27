/* hxs/xdp.h - userspace control of the hxs XDP program (bpf/hxs.bpf.c): get it onto an
 * interface (attach through libxdp, or adopt one already there), fill its steering maps,
 * read its counters, and take off only what we put on.
 *
 * Attach paths and where the maps live:
 *   - `ip link set dev X xdp obj hxs.bpf.o sec xdp` (operator): maps pinned by name in
 *     $TC_BPF_MNT/tc/globals/ (default /sys/fs/bpf/tc/globals), mode 0600, directory 0700.
 *     hxs_xdp__open() adopts that program and never detaches it.
 *   - hxs_xdp__open() attaching itself (libxdp, dispatcher when the kernel allows, else the
 *     program alone): no pins at all. The maps are found through the program
 *     (interface -> prog -> map ids), which works in any namespace and cannot collide with
 *     another namespace's or another interface's pins.
 * A program attached through libxdp records its owner (pid, start time, pid namespace) in its
 * read-only config; a later hxs_xdp__open() in the same pid namespace that finds it with its
 * owner gone (the process was killed) detaches it and attaches afresh ("stale recovery").
 * One hxs process per interface: an adopter shares the maps (and the XSK map) with whoever
 * attached the program, and removes the entries it added itself before hxs_xdp__close().
 *
 * Addresses are 16 bytes, IPv4 as ::ffff:a.b.c.d (hxs_addr_v4()); ports network order.
 * Every function returns 0 (or a count/fd) on success, -errno on failure.
 *
 * Public, for tools that read a running stack (hxs, hxs-xdp); implemented in
 * user/ctl/xdp_ctl.c.
 */
#ifndef HXS_XDP_CTL_H
#define HXS_XDP_CTL_H

#include <stdbool.h>
#include <string.h>
#include <linux/types.h>
#include "hxs/hxs.h"
#include "hxs/shared.h"

struct hxs_xdp;

/* How the program we control got where it is. */
enum hxs_xdp_how {
	HXS_XDP_LOADED = 0,     /* loaded, not attached (open with ifname NULL: tests, tools) */
	HXS_XDP_ADOPTED,        /* someone else's hxs program: ip link, another hxs process */
	HXS_XDP_DISPATCHER,     /* we attached it through libxdp's multi-program dispatcher */
	HXS_XDP_SINGLE,         /* we attached it alone (the dispatcher could not be used) */
};

struct hxs_xdp_opts {
	enum hxs_xdp_attach attach; /* AUTO: adopt, else attach (driver picks native/skb);
	                             * NATIVE/SKB: attach in that mode (-EEXIST if a live hxs
	                             * program is there); EXISTING: adopt only (-ENOENT) */
	bool no_ipv6;               /* our program passes every IPv6 frame to the kernel */
	bool frags;                 /* load ours multi-buffer aware (BPF_F_XDP_HAS_FRAGS): needed
	                             * to attach on a veth whose peer MTU is above ~3500 (jumbo);
	                             * headers must fit the first buffer, lengths are checked
	                             * against the whole frame. `ip link ... sec xdp` loads it
	                             * without the flag. */
	bool verbose;               /* say on stderr what was found, replaced, attached */
};

/* Opens the hxs program for ifname: adopts it, or loads the skeleton's object (built from
 * bpf/hxs.bpf.c) and attaches it, after removing a stale one. ifname NULL only loads the
 * program (HXS_XDP_LOADED), for bpf_prog_test_run. opts may be NULL (AUTO). */
int hxs_xdp__open(struct hxs_xdp **out, const char *ifname, const struct hxs_xdp_opts *opts);
/* Detaches what open attached (never an adopted program), closes every fd, frees. */
void hxs_xdp__close(struct hxs_xdp *x);

enum hxs_xdp_how hxs_xdp__how(const struct hxs_xdp *x);
/* e.g. "hxs_xdp id 42 on veth0: attached via libxdp dispatcher, native mode" */
const char *hxs_xdp__describe(const struct hxs_xdp *x);
int hxs_xdp__prog_fd(const struct hxs_xdp *x);
/* fd of one of the program's maps by name (HXS_MAP_*), owned by x; -ENOENT if unknown. */
int hxs_xdp__map_fd(const struct hxs_xdp *x, const char *name);

/* Steering entries. flags: HXS_BIND_F_LISTEN for a TCP listener. */
int hxs_xdp__bind_add(struct hxs_xdp *x, const __u8 addr[16], __be16 port, __u8 proto,
		      __u32 owner, __u32 flags);
int hxs_xdp__bind_del(struct hxs_xdp *x, const __u8 addr[16], __be16 port, __u8 proto);
/* slot/gen: the connection's slot in HXS_MAP_SLOTS and its incarnation (struct hxs_conn_val);
 * HXS_SLOT_NONE and 0 for a connection without the fast path. */
int hxs_xdp__conn_add(struct hxs_xdp *x, const __u8 laddr[16], __be16 lport,
		      const __u8 raddr[16], __be16 rport, __u8 proto, __u32 slot, __u32 gen);
int hxs_xdp__conn_del(struct hxs_xdp *x, const __u8 laddr[16], __be16 lport,
		      const __u8 raddr[16], __be16 rport, __u8 proto);
/* Deletes every 4-tuple entry of local address laddr and protocol proto; returns how many. */
int hxs_xdp__conn_flush(struct hxs_xdp *x, const __u8 laddr[16], __u8 proto);

/* AF_XDP socket of a receive queue (xsk_fd: xsk_socket__fd()). The kernel drops the entry by
 * itself when the socket closes. */
int hxs_xdp__xsk_set(struct hxs_xdp *x, __u32 queue, int xsk_fd);
int hxs_xdp__xsk_clear(struct hxs_xdp *x, __u32 queue);

/* The connection slots (HXS_MAP_SLOTS, struct hxs_slot; slot 0 is struct hxs_slot_hdr),
 * mapped shared read-write (mmap of the BPF_F_MMAPABLE array): *n slots at *slots, valid
 * until hxs_xdp__close(). -ENOENT when the program has no such map (an older one adopted). */
int hxs_xdp__slots(struct hxs_xdp *x, struct hxs_slot **slots, __u32 *n);
/* The ephemeral-port table (HXS_MAP_EPH, HXS_MAX_EPH entries of struct hxs_eph_val),
 * mapped shared read-write; valid until hxs_xdp__close(). -ENOENT when the program has no
 * such map (an older one adopted): connections are then steered by conn entries alone. */
int hxs_xdp__eph(struct hxs_xdp *x, struct hxs_eph_val **eph);
/* The doorbell (HXS_MAP_WAKE): an fd that becomes readable when the program rang it (put
 * in the stack's epoll set), and the drain that consumes the records; returns how many. */
int hxs_xdp__wake_fd(struct hxs_xdp *x);
int hxs_xdp__wake_drain(struct hxs_xdp *x);

/* The SYN-cookie secrets the program reads (HXS_MAP_COOKIE, struct hxs_cookie_secret): one
 * array update; -ENOENT when the program has no such map. */
int hxs_xdp__cookie_set(struct hxs_xdp *x, const struct hxs_cookie_secret *s);

/* Counters summed over CPUs, indexed by enum hxs_xdp_stat (names: HXS_XDP_STAT_NAMES). */
int hxs_xdp__stats(const struct hxs_xdp *x, __u64 out[HXS_XDP_STAT_MAX]);
/* The same from any hxs_stats map fd (e.g. bpf_obj_get() of the ip-link pin). */
int hxs_xdp_stats_read(int stats_fd, __u64 out[HXS_XDP_STAT_MAX]);

/* ::ffff:a.b.c.d for an IPv4 address in network order. */
static inline void hxs_addr_v4(__u8 out[16], __be32 a)
{
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	memcpy(out + 12, &a, 4);
}

#endif
