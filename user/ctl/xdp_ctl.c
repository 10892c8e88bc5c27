/* xdp_ctl.c - get the hxs XDP program onto an interface, fill its maps, read its counters.
 *
 * hxs_xdp__open() -> find_hxs() -> owner_alive() -> remove_found()      (stale recovery)
 *                 -> adopt()    -> read_prog_maps()                      (someone's program)
 *                 -> attach()   -> open_skel() -> xdp_program__attach()  (libxdp)
 *                                  \-> attach_single()                   (dispatcher refused)
 * hxs_xdp__close() -> detach (only what attach() put there)
 *
 * Our own attach never pins: open_skel() clears the LIBBPF_PIN_BY_NAME pin paths the object
 * carries for `ip link`, and every map is reached through the program's map ids, so a program
 * in one namespace cannot pick up (or clobber) the pins of another.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "hxs/xdp.h"
#include "lib/proc.h"
#include "hxs.skel.h"

enum { M_XSKS, M_BINDS, M_CONNS, M_STATS, M_FRAGS, M_SLOTS, M_WAKE, M_COOKIE, M_EPH, M_NR };
static const char *const map_names[M_NR] = {
	[M_XSKS] = HXS_MAP_XSKS, [M_BINDS] = HXS_MAP_BINDS, [M_CONNS] = HXS_MAP_CONNS,
	[M_STATS] = HXS_MAP_STATS, [M_FRAGS] = HXS_MAP_FRAGS, [M_SLOTS] = HXS_MAP_SLOTS,
	[M_WAKE] = HXS_MAP_WAKE, [M_COOKIE] = HXS_MAP_COOKIE, [M_EPH] = HXS_MAP_EPH,
};

struct hxs_xdp {
	enum hxs_xdp_how how;
	int ifindex;
	char ifname[IF_NAMESIZE];
	enum xdp_attach_mode mode;  /* of the attachment (ours or adopted) */
	struct hxs *skel;           /* our object: LOADED, DISPATCHER, SINGLE */
	struct xdp_program *xprog;  /* libxdp's handle of our program (DISPATCHER, libxdp SINGLE) */
	bool raw_single;            /* SINGLE through bpf_xdp_attach() ourselves */
	int prog_fd;                /* adopted: our dup; else the skeleton's */
	__u32 prog_id;
	char prog_name[BPF_OBJ_NAME_LEN];
	int map_fd[M_NR];
	bool own_fds;               /* adopted: prog_fd and map_fd[] are ours to close */
	struct hxs_slot *slots;     /* HXS_MAP_SLOTS mapped (hxs_xdp__slots), or NULL */
	size_t slots_len;
	struct hxs_eph_val *eph;    /* HXS_MAP_EPH mapped (hxs_xdp__eph), or NULL */
	struct ring_buffer *wake;   /* HXS_MAP_WAKE consumer (hxs_xdp__wake_fd), or NULL */
	char desc[320];
};

/* What find_hxs() found on an interface. */
struct found {
	struct xdp_multiprog *mp;
	struct xdp_program *prog;   /* inside mp */
	struct hxs_xdp_cfg cfg;
	bool has_cfg;
};

#define say(x, ...) do { if ((x)) fprintf(stderr, "hxs-xdp: " __VA_ARGS__); } while (0)

static const char *mode_name(enum xdp_attach_mode m)
{
	switch (m) {
	case XDP_MODE_NATIVE: return "native";
	case XDP_MODE_SKB:    return "skb";
	case XDP_MODE_HW:     return "hw";
	default:              return "unspec";
	}
}

static __u32 pidns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/pid", &st) ? 0 : (__u32)st.st_ino;
}

/* A program attached through libxdp is stale when its owner is gone. The owner's pid only
 * means something in its own pid namespace: from another one, assume it lives. */
static bool owner_alive(const struct hxs_xdp_cfg *cfg)
{
	if (!cfg->owner_pid || cfg->owner_pidns != pidns_ino())
		return true;
	return hxs_proc__start_time((pid_t)cfg->owner_pid) == cfg->owner_start;
}

/* Map fds of prog_fd's maps by name into fds[] (-1 where absent); cfg from its .rodata. */
static int read_prog_maps(int prog_fd, int fds[M_NR], struct hxs_xdp_cfg *cfg, bool *has_cfg)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[32], i, n;
	int err = 0, k;

	for (k = 0; k < M_NR; k++)
		fds[k] = -1;
	*has_cfg = false;
	info.nr_map_ids = 32;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	n = info.nr_map_ids < 32 ? info.nr_map_ids : 32;
	for (i = 0; i < n; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		size_t nl;
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0) {
			err = -errno;
			continue;
		}
		if (bpf_obj_get_info_by_fd(fd, &mi, &mlen)) {
			close(fd);
			continue;
		}
		for (k = 0; k < M_NR; k++)
			if (!strcmp(mi.name, map_names[k]) && fds[k] < 0)
				break;
		if (k < M_NR) {
			fds[k] = fd;
			continue;
		}
		/* hxs_cfg is the only variable in .rodata, so it sits at offset 0 */
		nl = strlen(mi.name);
		if (nl > 7 && !strcmp(mi.name + nl - 7, ".rodata") && mi.value_size >= sizeof(*cfg) &&
		    mi.value_size <= 4096) {
			char val[4096];
			__u32 zero = 0;

			if (!bpf_map_lookup_elem(fd, &zero, val)) {
				memcpy(cfg, val, sizeof(*cfg));
				*has_cfg = cfg->magic == HXS_XDP_CFG_MAGIC;
			}
		}
		close(fd);
	}
	return err;
}

static void close_fds(int fds[M_NR])
{
	for (int k = 0; k < M_NR; k++)
		if (fds[k] >= 0)
			close(fds[k]);
}

static void found_release(struct found *f)
{
	if (f->mp)
		xdp_multiprog__close(f->mp);
	memset(f, 0, sizeof(*f));
}

/* Looks for a program named HXS_PROG_NAME(_FRAGS) on ifindex, alone or in a libxdp dispatcher.
 * Returns 1 (found, f filled), 0 (none) or -errno. */
static bool is_hxs(const struct xdp_program *p)
{
	const char *name = xdp_program__name(p);

	return !strcmp(name, HXS_PROG_NAME) || !strcmp(name, HXS_PROG_NAME_FRAGS);
}

static int find_hxs(int ifindex, struct found *f)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	int fds[M_NR];
	long err = libxdp_get_error(mp);

	memset(f, 0, sizeof(*f));
	if (err)
		return err == -ENOENT ? 0 : (int)err;
	if (!mp)
		return 0;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !is_hxs(p))
			p = NULL;
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
			if (is_hxs(p))
				break;
	}
	if (!p) {
		xdp_multiprog__close(mp);
		return 0;
	}
	f->mp = mp;
	f->prog = p;
	read_prog_maps(xdp_program__fd(p), fds, &f->cfg, &f->has_cfg);
	close_fds(fds);
	return 1;
}

/* Takes a stale hxs program off the interface. */
static int remove_found(struct hxs_xdp *x, struct found *f)
{
	int err = xdp_program__detach(f->prog, x->ifindex, xdp_multiprog__attach_mode(f->mp), 0);

	if (err && xdp_multiprog__is_legacy(f->mp)) {
		/* attached without libxdp's bookkeeping: replace exactly that program by none */
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = xdp_program__fd(f->prog));
		__u32 fl = XDP_FLAGS_REPLACE |
			   (xdp_multiprog__attach_mode(f->mp) == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE
									: XDP_FLAGS_DRV_MODE);
		err = bpf_xdp_attach(x->ifindex, -1, fl, &ao) ? -errno : 0;
	}
	return err;
}

/* A veth (ETHTOOL_GDRVINFO says "veth"): its XDP_TX needs HXS_XDP_CFG_F_TX_REDIRECT. */
static bool is_veth(const char *ifname)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };
	bool veth = false;
	int fd;

	if (!ifname)
		return false;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&di;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0)
		veth = !strcmp(di.driver, "veth");
	close(fd);
	return veth;
}

/* Opens the skeleton with our config and without pins (see the file comment). ifname: the
 * interface it will attach to (NULL: none). */
static struct hxs *open_skel(const struct hxs_xdp_opts *o, bool owned, const char *ifname)
{
	struct hxs *skel = hxs__open();
	struct bpf_map *m;
	struct hxs_xdp_cfg cfg = HXS_XDP_CFG_DEFAULT;

	if (!skel)
		return NULL;
	if (o->no_ipv6)
		cfg.flags &= ~HXS_XDP_CFG_F_IPV6;
	if (is_veth(ifname))
		cfg.flags |= HXS_XDP_CFG_F_TX_REDIRECT;
	if (owned) {
		cfg.owner_pid = (__u32)getpid();
		cfg.owner_start = hxs_proc__start_time((pid_t)cfg.owner_pid);
		cfg.owner_pidns = pidns_ino();
	}
	memcpy((void *)&skel->rodata->hxs_cfg, &cfg, sizeof(cfg));
	/* load only the variant we attach */
	bpf_program__set_autoload(o->frags ? skel->progs.hxs_xdp : skel->progs.hxs_xdp_frags, false);
	bpf_object__for_each_map(m, skel->obj)
		bpf_map__set_pin_path(m, NULL);
	return skel;
}

static void take_skel_fds(struct hxs_xdp *x)
{
	struct bpf_map *maps[M_NR] = {
		[M_XSKS] = x->skel->maps.hxs_xsks, [M_BINDS] = x->skel->maps.hxs_binds,
		[M_CONNS] = x->skel->maps.hxs_conns, [M_STATS] = x->skel->maps.hxs_stats,
		[M_FRAGS] = x->skel->maps.hxs_frags, [M_SLOTS] = x->skel->maps.hxs_slots,
		[M_WAKE] = x->skel->maps.hxs_wake, [M_COOKIE] = x->skel->maps.hxs_cookie,
		[M_EPH] = x->skel->maps.hxs_eph,
	};
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	for (int k = 0; k < M_NR; k++)
		x->map_fd[k] = bpf_map__fd(maps[k]);
	x->prog_fd = bpf_program__fd(bpf_program__autoload(x->skel->progs.hxs_xdp)
					     ? x->skel->progs.hxs_xdp
					     : x->skel->progs.hxs_xdp_frags);
	if (!bpf_obj_get_info_by_fd(x->prog_fd, &info, &len)) {
		x->prog_id = info.id;
		snprintf(x->prog_name, sizeof(x->prog_name), "%s", info.name);
	}
}

static int adopt(struct hxs_xdp *x, struct found *f)
{
	int err;

	x->prog_fd = dup(xdp_program__fd(f->prog));
	if (x->prog_fd < 0)
		return -errno;
	x->own_fds = true;
	x->prog_id = xdp_program__id(f->prog);
	snprintf(x->prog_name, sizeof(x->prog_name), "%s", xdp_program__name(f->prog));
	x->mode = xdp_multiprog__attach_mode(f->mp);
	err = read_prog_maps(x->prog_fd, x->map_fd, &f->cfg, &f->has_cfg);
	for (int k = 0; k < M_NR; k++)
		if (x->map_fd[k] < 0)
			return err ? err : -ENOENT;     /* an older hxs without a map we need */
	x->how = HXS_XDP_ADOPTED;
	snprintf(x->desc, sizeof(x->desc), "%s id %u on %s: adopted (%s, %s mode)", x->prog_name,
		 x->prog_id, x->ifname,
		 f->cfg.owner_pid ? "attached by another hxs process" : "attached by an operator",
		 mode_name(x->mode));
	return 0;
}

/* The dispatcher was refused: load the program as plain XDP and attach it alone. */
static int attach_single(struct hxs_xdp *x, const struct hxs_xdp_opts *o)
{
	__u32 fl = XDP_FLAGS_UPDATE_IF_NOEXIST;
	int err;

	x->skel = open_skel(o, true, x->ifname);
	if (!x->skel)
		return -errno;
	err = hxs__load(x->skel);
	if (err)
		return err;
	if (x->mode == XDP_MODE_NATIVE)
		fl |= XDP_FLAGS_DRV_MODE;
	else if (x->mode == XDP_MODE_SKB)
		fl |= XDP_FLAGS_SKB_MODE;
	take_skel_fds(x);
	if (bpf_xdp_attach(x->ifindex, x->prog_fd, fl, NULL))
		return -errno;
	x->raw_single = true;
	return 0;
}

static int attach(struct hxs_xdp *x, const struct hxs_xdp_opts *o)
{
	struct xdp_multiprog *mp;
	char why[128];
	int err;

	x->mode = o->attach == HXS_ATTACH_NATIVE ? XDP_MODE_NATIVE
		: o->attach == HXS_ATTACH_SKB  ? XDP_MODE_SKB
					       : XDP_MODE_UNSPEC;
	x->skel = open_skel(o, true, x->ifname);
	if (!x->skel)
		return -errno;
	x->xprog = xdp_program__from_bpf_obj(x->skel->obj, o->frags ? "xdp.frags" : "xdp");
	err = libxdp_get_error(x->xprog);
	if (err) {
		x->xprog = NULL;
		return err;
	}
	err = xdp_program__attach(x->xprog, x->ifindex, x->mode, 0);
	if (err) {
		libxdp_strerror(err, why, sizeof(why));
		say(o->verbose, "libxdp attach failed (%s), attaching the program alone\n", why);
		xdp_program__close(x->xprog);   /* does not close the skeleton's object */
		x->xprog = NULL;
		hxs__destroy(x->skel);
		x->skel = NULL;
		err = attach_single(x, o);
		if (err)
			return err;
		x->how = HXS_XDP_SINGLE;
		snprintf(x->desc, sizeof(x->desc),
			 "%s id %u on %s: attached alone (libxdp dispatcher refused: %s), %s mode",
			 x->prog_name, x->prog_id, x->ifname, why, mode_name(x->mode));
		return 0;
	}
	take_skel_fds(x);
	x->how = HXS_XDP_DISPATCHER;
	mp = xdp_multiprog__get_from_ifindex(x->ifindex);
	if (!libxdp_get_error(mp) && mp) {
		if (xdp_multiprog__is_legacy(mp))
			x->how = HXS_XDP_SINGLE;        /* libxdp fell back by itself */
		x->mode = xdp_multiprog__attach_mode(mp);
		xdp_multiprog__close(mp);
	}
	snprintf(x->desc, sizeof(x->desc), "%s id %u on %s: attached via libxdp %s, %s mode",
		 x->prog_name, x->prog_id, x->ifname,
		 x->how == HXS_XDP_DISPATCHER ? "dispatcher" : "as a single program",
		 mode_name(x->mode));
	return 0;
}

int hxs_xdp__open(struct hxs_xdp **out, const char *ifname, const struct hxs_xdp_opts *opts)
{
	static const struct hxs_xdp_opts defaults;
	const struct hxs_xdp_opts *o = opts ? opts : &defaults;
	struct hxs_xdp *x;
	struct found f;
	int err;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->prog_fd = -1;
	for (int k = 0; k < M_NR; k++)
		x->map_fd[k] = -1;

	if (!ifname) {
		x->skel = open_skel(o, false, NULL);
		if (!x->skel) {
			err = -errno;
			goto err_free;
		}
		err = hxs__load(x->skel);
		if (err)
			goto err_close;
		take_skel_fds(x);
		x->how = HXS_XDP_LOADED;
		snprintf(x->desc, sizeof(x->desc), "%s id %u: loaded, not attached", x->prog_name,
			 x->prog_id);
		*out = x;
		return 0;
	}

	snprintf(x->ifname, sizeof(x->ifname), "%s", ifname);
	x->ifindex = (int)if_nametoindex(ifname);
	if (!x->ifindex) {
		err = -errno;
		goto err_free;
	}
	err = find_hxs(x->ifindex, &f);
	if (err < 0)
		goto err_free;
	if (err == 1 && f.has_cfg && f.cfg.owner_pid && !owner_alive(&f.cfg)) {
		say(o->verbose, "%s: removing stale %s id %u (owner pid %u is gone)\n", ifname,
		    xdp_program__name(f.prog), xdp_program__id(f.prog), f.cfg.owner_pid);
		err = remove_found(x, &f);
		found_release(&f);
		if (err)
			goto err_free;
		err = 0;
	}
	if (err == 1) {
		if (o->attach == HXS_ATTACH_NATIVE || o->attach == HXS_ATTACH_SKB) {
			say(o->verbose, "%s: an hxs program is already attached\n", ifname);
			found_release(&f);
			err = -EEXIST;
			goto err_free;
		}
		err = adopt(x, &f);
		found_release(&f);
		if (err)
			goto err_close;
	} else if (o->attach == HXS_ATTACH_EXISTING) {
		err = -ENOENT;
		goto err_free;
	} else {
		err = attach(x, o);
		if (err)
			goto err_close;
	}
	say(o->verbose, "%s\n", x->desc);
	*out = x;
	return 0;

err_close:
	hxs_xdp__close(x);
	return err;
err_free:
	free(x);
	return err;
}

void hxs_xdp__close(struct hxs_xdp *x)
{
	if (!x)
		return;
	if (x->xprog) {
		xdp_program__detach(x->xprog, x->ifindex, x->mode, 0);
		xdp_program__close(x->xprog);
	} else if (x->raw_single) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = x->prog_fd);
		bpf_xdp_attach(x->ifindex, -1,
			       XDP_FLAGS_REPLACE | (x->mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE
									     : x->mode == XDP_MODE_NATIVE
										? XDP_FLAGS_DRV_MODE
										: 0),
			       &ao);
	}
	if (x->slots)
		munmap(x->slots, x->slots_len);
	if (x->eph)
		munmap(x->eph, (size_t)HXS_MAX_EPH * sizeof(*x->eph));
	if (x->wake)
		ring_buffer__free(x->wake);
	if (x->own_fds) {
		close_fds(x->map_fd);
		if (x->prog_fd >= 0)
			close(x->prog_fd);
	}
	hxs__destroy(x->skel);
	free(x);
}

enum hxs_xdp_how hxs_xdp__how(const struct hxs_xdp *x)
{
	return x->how;
}

const char *hxs_xdp__describe(const struct hxs_xdp *x)
{
	return x->desc;
}

int hxs_xdp__prog_fd(const struct hxs_xdp *x)
{
	return x->prog_fd;
}

int hxs_xdp__map_fd(const struct hxs_xdp *x, const char *name)
{
	for (int k = 0; k < M_NR; k++)
		if (!strcmp(name, map_names[k]))
			return x->map_fd[k];
	return -ENOENT;
}

static int ret(int rc)
{
	return rc ? -errno : 0;
}

int hxs_xdp__bind_add(struct hxs_xdp *x, const __u8 addr[16], __be16 port, __u8 proto,
		      __u32 owner, __u32 flags)
{
	struct hxs_bind_key k = { .port = port, .proto = proto };
	struct hxs_bind_val v = { .owner = owner, .flags = flags };

	memcpy(k.addr, addr, 16);
	return ret(bpf_map_update_elem(x->map_fd[M_BINDS], &k, &v, BPF_ANY));
}

int hxs_xdp__cookie_set(struct hxs_xdp *x, const struct hxs_cookie_secret *s)
{
	__u32 zero = 0;

	if (x->map_fd[M_COOKIE] < 0)
		return -ENOENT;
	return ret(bpf_map_update_elem(x->map_fd[M_COOKIE], &zero, s, BPF_ANY));
}

int hxs_xdp__bind_del(struct hxs_xdp *x, const __u8 addr[16], __be16 port, __u8 proto)
{
	struct hxs_bind_key k = { .port = port, .proto = proto };

	memcpy(k.addr, addr, 16);
	return ret(bpf_map_delete_elem(x->map_fd[M_BINDS], &k));
}

static void conn_key(struct hxs_conn_key *k, const __u8 laddr[16], __be16 lport,
		     const __u8 raddr[16], __be16 rport, __u8 proto)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->laddr, laddr, 16);
	memcpy(k->raddr, raddr, 16);
	k->lport = lport;
	k->rport = rport;
	k->proto = proto;
}

int hxs_xdp__conn_add(struct hxs_xdp *x, const __u8 laddr[16], __be16 lport,
		      const __u8 raddr[16], __be16 rport, __u8 proto, __u32 slot, __u32 gen)
{
	struct hxs_conn_key k;
	struct hxs_conn_val v = { .slot = slot, .gen = gen };

	conn_key(&k, laddr, lport, raddr, rport, proto);
	return ret(bpf_map_update_elem(x->map_fd[M_CONNS], &k, &v, BPF_ANY));
}

int hxs_xdp__conn_del(struct hxs_xdp *x, const __u8 laddr[16], __be16 lport,
		      const __u8 raddr[16], __be16 rport, __u8 proto)
{
	struct hxs_conn_key k;

	conn_key(&k, laddr, lport, raddr, rport, proto);
	return ret(bpf_map_delete_elem(x->map_fd[M_CONNS], &k));
}

int hxs_xdp__conn_flush(struct hxs_xdp *x, const __u8 laddr[16], __u8 proto)
{
	struct hxs_conn_key k, next, *prev = NULL;
	int n = 0;

	/* Deleting the key just returned makes get_next_key restart the walk: continue from the
	 * same predecessor after each delete. */
	while (!bpf_map_get_next_key(x->map_fd[M_CONNS], prev, &next)) {
		if (next.proto == proto && !memcmp(next.laddr, laddr, 16) &&
		    !bpf_map_delete_elem(x->map_fd[M_CONNS], &next)) {
			n++;
			continue;
		}
		k = next;
		prev = &k;
	}
	return n;
}

int hxs_xdp__xsk_set(struct hxs_xdp *x, __u32 queue, int xsk_fd)
{
	__u32 v = (__u32)xsk_fd;

	return ret(bpf_map_update_elem(x->map_fd[M_XSKS], &queue, &v, BPF_ANY));
}

int hxs_xdp__xsk_clear(struct hxs_xdp *x, __u32 queue)
{
	return ret(bpf_map_delete_elem(x->map_fd[M_XSKS], &queue));
}

int hxs_xdp_stats_read(int stats_fd, __u64 out[HXS_XDP_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));   /* per-CPU values are 8-byte slots */
	if (!vals)
		return -ENOMEM;
	for (__u32 i = 0; i < HXS_XDP_STAT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(stats_fd, &i, vals)) {
			int err = -errno;

			free(vals);
			return err;
		}
		for (int c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

int hxs_xdp__stats(const struct hxs_xdp *x, __u64 out[HXS_XDP_STAT_MAX])
{
	return hxs_xdp_stats_read(x->map_fd[M_STATS], out);
}

int hxs_xdp__slots(struct hxs_xdp *x, struct hxs_slot **slots, __u32 *n)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = x->map_fd[M_SLOTS];
	void *p;

	if (x->slots)
		goto out;
	if (fd < 0)
		return -ENOENT;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.value_size != sizeof(struct hxs_slot) || !(info.map_flags & BPF_F_MMAPABLE) ||
	    info.max_entries < 2)
		return -ENOENT;
	x->slots_len = (size_t)info.max_entries * sizeof(struct hxs_slot);
	p = mmap(NULL, x->slots_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	x->slots = p;
out:
	*slots = x->slots;
	*n = (__u32)(x->slots_len / sizeof(struct hxs_slot));
	return 0;
}

int hxs_xdp__eph(struct hxs_xdp *x, struct hxs_eph_val **eph)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = x->map_fd[M_EPH];
	void *p;

	if (x->eph)
		goto out;
	if (fd < 0)
		return -ENOENT;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.value_size != sizeof(struct hxs_eph_val) || !(info.map_flags & BPF_F_MMAPABLE) ||
	    info.max_entries != HXS_MAX_EPH)
		return -ENOENT;
	p = mmap(NULL, (size_t)HXS_MAX_EPH * sizeof(struct hxs_eph_val), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	x->eph = p;
out:
	*eph = x->eph;
	return 0;
}

static int wake_rec(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

int hxs_xdp__wake_fd(struct hxs_xdp *x)
{
	if (!x->wake) {
		if (x->map_fd[M_WAKE] < 0)
			return -ENOENT;
		x->wake = ring_buffer__new(x->map_fd[M_WAKE], wake_rec, NULL, NULL);
		if (!x->wake)
			return -errno ? -errno : -ENOMEM;
	}
	return ring_buffer__epoll_fd(x->wake);
}

int hxs_xdp__wake_drain(struct hxs_xdp *x)
{
	int n;

	if (!x->wake)
		return 0;
	n = ring_buffer__consume(x->wake);
	return n < 0 ? 0 : n;
}
