/* hxs/stats.h - how a running stack shows its state to tools (`hxs stat`, `hxs ss`) without
 * slowing its datapath: one shared-memory file per stack that the stack writes with plain
 * stores and any other process in the same network namespace maps read-only.
 *
 *   file:  <dir>/<netns inode>-<name>.shm   dir = $HXS_RUN_DIR or /run/hxs, mode 0600,
 *          name = hxs_stack_opts.stats_name or the interface name
 *
 *   writer (the stack, one thread):
 *     hxs_shm__open() -> (stale file? its writer is dead: unlink) -> create <file>.<pid>.tmp,
 *                        size, map read-write, fill the header, rename() into place
 *     hxs_shm__publish_counters(shm, group, names, vals, n)   counters (seqlock per group)
 *     hxs_shm__conn_update(shm, slot, &info)                  one connection (seqlock per slot)
 *     hxs_shm__conn_free(shm, slot)
 *     hxs_shm__close()   -> unlink, unmap
 *   reader (any process):
 *     hxs_shm_view__open(path) -> map read-only, check magic/version/sizes
 *     hxs_shm_view__counters()  -> a consistent snapshot of every group (retries on a write)
 *     hxs_shm_view__conn(slot)  -> a consistent copy of one slot (retries on a write)
 *
 * Publishing cost and cadence: nothing here makes a syscall or allocates after open; an update
 * is a copy of a few hundred bytes between two sequence-counter stores. The stack is expected
 * to publish its counters every 100 ms from a wheel timer (HXS_SHM_PUBLISH_US), and a
 * connection's record on every state change, on close (conn_free) and on the same 100 ms tick
 * for connections whose numbers moved. Readers never block the writer: a reader that sees an
 * odd or changed sequence number copies again; the writer never waits for anyone.
 *
 * Layout (all fixed-width, offsets fixed by the version; asserted below):
 *   struct hxs_shm_hdr                                   4096 bytes
 *   struct hxs_shm_group   groups[HXS_SHM_MAX_GROUPS]    each: seq + name + first/count
 *   char                   names[HXS_SHM_MAX_COUNTERS][HXS_SHM_NAME_LEN]
 *   uint64_t               vals[HXS_SHM_MAX_COUNTERS]
 *   struct hxs_shm_conn    conns[HXS_SHM_MAX_CONNS]
 * Counter names are kernel-MIB style ("TcpActiveOpens", "TcpExtTCPLostRetransmit", ...): the
 * publisher's own names, printed by `hxs stat` as they are.
 *
 * Public, for tools that read a running stack (hxs, hxs-xdp); implemented in
 * user/stats/stats_shm.c.
 */
#ifndef HXS_STATS_SHM_H
#define HXS_STATS_SHM_H

#include <stdint.h>
#include <stddef.h>

#define HXS_SHM_MAGIC        0x6d737868u   /* "hxsm" little-endian */
#define HXS_SHM_VERSION      1u
#define HXS_SHM_DIR          "/run/hxs"
#define HXS_SHM_DIR_ENV      "HXS_RUN_DIR"
#define HXS_SHM_MAX_GROUPS   16
#define HXS_SHM_MAX_COUNTERS 512
#define HXS_SHM_NAME_LEN     48
#define HXS_SHM_MAX_CONNS    4096
#define HXS_SHM_PUBLISH_US   100000ull     /* expected publishing period */

/* Connection states: Linux's numbering (include/net/tcp_states.h), so tools name them as
 * `ss` does. UDP sockets publish HXS_SHM_UNCONN (bound) or HXS_SHM_ESTAB (connected). */
enum hxs_shm_state {
	HXS_SHM_FREE = 0,
	HXS_SHM_ESTAB = 1, HXS_SHM_SYN_SENT, HXS_SHM_SYN_RECV, HXS_SHM_FIN_WAIT1,
	HXS_SHM_FIN_WAIT2, HXS_SHM_TIME_WAIT, HXS_SHM_UNCONN /* TCP_CLOSE */, HXS_SHM_CLOSE_WAIT,
	HXS_SHM_LAST_ACK, HXS_SHM_LISTEN, HXS_SHM_CLOSING,
	HXS_SHM_STATE_MAX
};

/* What the stack publishes about one connection (like struct tcp_info). Addresses as in
 * shared.h: 16 bytes, IPv4 mapped (::ffff:a.b.c.d); ports network order. */
struct hxs_shm_conn_info {
	uint8_t  laddr[16];
	uint8_t  raddr[16];
	uint16_t lport, rport;      /* network order */
	uint8_t  state;             /* enum hxs_shm_state */
	uint8_t  proto;             /* IPPROTO_TCP / IPPROTO_UDP */
	uint8_t  ca_state;          /* 0 open, 1 disorder, 2 CWR, 3 recovery, 4 loss (kernel's) */
	uint8_t  backoff;           /* RTO backoff exponent (consecutive timeouts) */
	uint32_t rtt_us;            /* smoothed RTT (RFC 6298 SRTT) */
	uint32_t rttvar_us;         /* RTTVAR */
	uint32_t rto_us;
	uint32_t min_rtt_us;
	uint32_t mss;               /* effective send MSS */
	uint32_t cwnd;              /* bytes */
	uint32_t ssthresh;          /* bytes; UINT32_MAX = not yet set */
	uint32_t snd_wnd;           /* peer's advertised window, bytes */
	uint32_t rcv_wnd;           /* our advertised window, bytes */
	uint32_t snd_queue;         /* bytes written by the application, not yet acked */
	uint32_t rcv_queue;         /* bytes received, not yet read by the application */
	uint32_t owner;             /* stack's socket id */
	uint64_t bytes_sent;        /* incl. retransmissions */
	uint64_t bytes_acked;
	uint64_t bytes_received;
	uint64_t segs_out;
	uint64_t segs_in;
	uint64_t total_retrans;     /* segments retransmitted */
	uint64_t updated_us;        /* stack clock (CLOCK_MONOTONIC us) of this record */
	uint64_t pacing_rate;       /* bytes/s; 0: not paced */
	uint64_t delivery_rate;     /* bytes/s, the last delivery-rate sample */
	uint64_t reserved[3];       /* zero; room for the next version's fields */
};

/* One slot: seq odd while the writer is inside. */
struct hxs_shm_conn {
	uint32_t seq;
	uint32_t pad;
	struct hxs_shm_conn_info info;
};

/* A named group of counters ("Ip", "Udp", "Tcp", "Xsk" ...), contiguous in names/vals. */
struct hxs_shm_group {
	uint32_t seq;               /* seqlock over this group's values (odd: being written) */
	uint32_t first;             /* index of its first counter */
	uint32_t count;
	uint32_t pad;
	char     name[16];
};

struct hxs_shm_hdr {
	uint32_t magic;             /* HXS_SHM_MAGIC, written last at creation */
	uint32_t version;           /* HXS_SHM_VERSION */
	uint32_t hdr_size;          /* sizeof(struct hxs_shm_hdr) */
	uint32_t conn_size;         /* sizeof(struct hxs_shm_conn) */
	uint32_t max_groups, max_counters, max_conns, name_len;
	uint64_t total_size;        /* bytes of the file */
	uint32_t writer_pid;
	uint32_t pad0;
	uint64_t writer_start;      /* writer's start time (field 22 of /proc/PID/stat) */
	uint64_t netns_ino;         /* inode of the writer's /proc/self/ns/net */
	uint64_t created_unix_ns;   /* CLOCK_REALTIME at creation */
	uint64_t updated_us;        /* writer's clock at the last counter publish */
	uint32_t n_groups;          /* groups in use (only grows) */
	uint32_t n_counters;        /* counters in use (only grows) */
	uint32_t conn_hwm;          /* highest slot ever used + 1: readers scan [0, conn_hwm) */
	uint32_t pad1;
	char     ifname[16];
	char     name[64];
	char     desc[256];         /* the stack's own description of its datapath */
	uint8_t  reserved[4096 - 432];
};

_Static_assert(sizeof(struct hxs_shm_conn_info) == 184, "hxs_shm_conn_info layout");
_Static_assert(sizeof(struct hxs_shm_conn) == 192, "hxs_shm_conn layout");
_Static_assert(sizeof(struct hxs_shm_group) == 32, "hxs_shm_group layout");
_Static_assert(sizeof(struct hxs_shm_hdr) == 4096, "hxs_shm_hdr layout");
_Static_assert(offsetof(struct hxs_shm_hdr, reserved) == 432, "hxs_shm_hdr reserved offset");
_Static_assert(sizeof(struct hxs_shm_conn_info) % 8 == 0, "word-wise seqlock copies");

#define HXS_SHM_OFF_GROUPS   ((size_t)sizeof(struct hxs_shm_hdr))
#define HXS_SHM_OFF_NAMES    (HXS_SHM_OFF_GROUPS + (size_t)HXS_SHM_MAX_GROUPS * sizeof(struct hxs_shm_group))
#define HXS_SHM_OFF_VALS     (HXS_SHM_OFF_NAMES + (size_t)HXS_SHM_MAX_COUNTERS * HXS_SHM_NAME_LEN)
#define HXS_SHM_OFF_CONNS    (HXS_SHM_OFF_VALS + (size_t)HXS_SHM_MAX_COUNTERS * sizeof(uint64_t))
#define HXS_SHM_SIZE         (HXS_SHM_OFF_CONNS + (size_t)HXS_SHM_MAX_CONNS * sizeof(struct hxs_shm_conn))
_Static_assert(HXS_SHM_OFF_VALS % 64 == 0 && HXS_SHM_OFF_CONNS % 64 == 0, "aligned sections");

/* --- writer ------------------------------------------------------------------------------- */
struct hxs_shm;

/* Creates (or takes over from a dead writer) <dir>/<netns inode>-<name>.shm. dir NULL:
 * $HXS_RUN_DIR, else /run/hxs (created 0700 if missing). ifname and desc may be NULL.
 * -EBUSY when a live process already publishes under that name; -EINVAL for a name with '/'
 * or longer than 63 bytes. */
int hxs_shm__open(struct hxs_shm **out, const char *dir, const char *name, const char *ifname,
		  const char *desc);
/* Unlinks the file and unmaps it. NULL is fine. */
void hxs_shm__close(struct hxs_shm *shm);
const char *hxs_shm__path(const struct hxs_shm *shm);

/* Publishes n counters of a group (name <= 15 bytes, e.g. "Tcp"). The first call for a group
 * registers it and copies its names (each < HXS_SHM_NAME_LEN bytes); later calls copy values
 * only and must pass the same n. now_us: the stack's clock (goes to hdr.updated_us).
 * Returns 0, -ENOSPC (no room for the group or its counters), -EINVAL (n changed). */
int hxs_shm__publish_counters(struct hxs_shm *shm, const char *group, const char *const *names,
			      const uint64_t *vals, unsigned n, uint64_t now_us);

/* Writes slot's record (slot < HXS_SHM_MAX_CONNS; the stack uses its socket index). info->state
 * must not be HXS_SHM_FREE. Returns 0 or -ERANGE. */
int hxs_shm__conn_update(struct hxs_shm *shm, unsigned slot, const struct hxs_shm_conn_info *info);
/* Marks slot free (the connection is gone). */
void hxs_shm__conn_free(struct hxs_shm *shm, unsigned slot);

/* --- reader ------------------------------------------------------------------------------- */
struct hxs_shm_view;

/* Maps path read-only and checks magic, version and sizes (-EPROTO when they differ). */
int hxs_shm_view__open(struct hxs_shm_view **out, const char *path);
void hxs_shm_view__close(struct hxs_shm_view *v);
const struct hxs_shm_hdr *hxs_shm_view__hdr(const struct hxs_shm_view *v);
/* 1 when the writer process still runs (pid alive with the same start time), else 0. */
int hxs_shm_view__alive(const struct hxs_shm_view *v);

/* One counter of a snapshot. */
struct hxs_shm_counter {
	char group[16];
	char name[HXS_SHM_NAME_LEN];
	uint64_t val;
};
/* Copies up to max counters, each group consistent (seqlock); returns how many, or -EAGAIN
 * when a group kept changing for too long (a writer that died inside an update). */
int hxs_shm_view__counters(const struct hxs_shm_view *v, struct hxs_shm_counter *out, unsigned max);
/* Consistent copy of a slot: 1 in use (out filled), 0 free, -ERANGE, -EAGAIN (see above). */
int hxs_shm_view__conn(const struct hxs_shm_view *v, unsigned slot, struct hxs_shm_conn_info *out);

/* Paths of the stacks publishing in this network namespace: calls fn(path, ctx) for each
 * <dir>/<our netns inode>-*.shm (dir NULL as for open). Returns how many, or -errno. */
int hxs_shm__list(const char *dir, int (*fn)(const char *path, void *ctx), void *ctx);
/* <dir>/<our netns inode>-<name>.shm into buf. */
int hxs_shm__path_for(char *buf, size_t len, const char *dir, const char *name);
/* "ESTAB", "LISTEN", ... as ss prints them. */
const char *hxs_shm_state_name(unsigned state);

#endif
