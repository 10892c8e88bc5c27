/* stats_shm.c - the stack's shared-memory statistics region (layout and contract: stats_shm.h).
 *
 * hxs_shm__open() -> shm_dir() -> netns_ino() -> take_over_stale() -> create_file()
 *                    (tmp file, ftruncate, mmap, header, link() into place: readers never see
 *                     a half-made header, and two writers cannot both win a name)
 * hxs_shm__publish_counters() -> group_find() | group_add() -> seq_begin / copy / seq_end
 * hxs_shm__conn_update() / conn_free() -> seq_begin / copy / seq_end
 * hxs_shm_view__counters() / conn() -> seq_read_begin / copy / seq_read_retry
 *
 * Seqlock: the writer makes the sequence odd, publishes with a release fence, stores the data
 * word by word (relaxed atomics: no torn words, no data race), then stores the next even value
 * with release. A reader loads the sequence (acquire), copies, fences (acquire), reloads it and
 * starts over when it was odd or moved. The writer never waits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hxs/stats.h"
#include "lib/proc.h"

#define SEQ_SPINS 2000000u      /* reader gives up (-EAGAIN) after this many tries */

struct hxs_shm {
	uint8_t *base;
	struct hxs_shm_hdr *hdr;
	struct hxs_shm_group *groups;
	char (*names)[HXS_SHM_NAME_LEN];
	uint64_t *vals;
	struct hxs_shm_conn *conns;
	const char *const *last_names;  /* names array of the last group published: fast path */
	unsigned last_group;
	char path[PATH_MAX];
};

struct hxs_shm_view {
	const uint8_t *base;
	const struct hxs_shm_hdr *hdr;
	size_t size;
};

/* --- seqlock ------------------------------------------------------------------------------ */
static void seq_begin(uint32_t *seq)
{
	__atomic_store_n(seq, *seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void seq_end(uint32_t *seq)
{
	__atomic_store_n(seq, *seq + 1, __ATOMIC_RELEASE);
}

static void copy_out(uint64_t *dst, const uint64_t *src, size_t words)
{
	for (size_t i = 0; i < words; i++)
		__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
}

static void copy_in(uint64_t *dst, const uint64_t *src, size_t words)
{
	for (size_t i = 0; i < words; i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* Returns the sequence to check against, after waiting out an odd one; 1 (odd) on give-up. */
static uint32_t seq_read_begin(const uint32_t *seq, unsigned *spins)
{
	for (;;) {
		uint32_t s = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
		if (!(s & 1))
			return s;
		if (++*spins >= SEQ_SPINS)
			return 1;
		if ((*spins & 63) == 0)
			sched_yield();
	}
}

static int seq_read_retry(const uint32_t *seq, uint32_t s, unsigned *spins)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(seq, __ATOMIC_RELAXED) == s)
		return 0;
	++*spins;
	return 1;
}

/* --- process and namespace identity ---------------------------------------------------------- */
/* The writer lives: its pid exists and started when the writer did (lib/proc.h). */
static int pid_alive(uint32_t pid, uint64_t start)
{
	if (pid == 0)
		return 0;
	if (kill((pid_t)pid, 0) < 0 && errno != EPERM)
		return 0;
	return hxs_proc__start_time((pid_t)pid) == start;
}

static int netns_ino(uint64_t *ino)
{
	struct stat sb;
	if (stat("/proc/self/ns/net", &sb) < 0)
		return -errno;
	*ino = sb.st_ino;
	return 0;
}

static const char *shm_dir(const char *dir)
{
	if (dir)
		return dir;
	const char *e = getenv(HXS_SHM_DIR_ENV);
	return e && *e ? e : HXS_SHM_DIR;
}

int hxs_shm__path_for(char *buf, size_t len, const char *dir, const char *name)
{
	uint64_t ino = 0;
	int err = netns_ino(&ino);
	if (err)
		return err;
	int n = snprintf(buf, len, "%s/%llu-%s.shm", shm_dir(dir), (unsigned long long)ino, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void view_map(struct hxs_shm *s, uint8_t *base)
{
	s->base = base;
	s->hdr = (struct hxs_shm_hdr *)base;
	s->groups = (struct hxs_shm_group *)(base + HXS_SHM_OFF_GROUPS);
	s->names = (char (*)[HXS_SHM_NAME_LEN])(base + HXS_SHM_OFF_NAMES);
	s->vals = (uint64_t *)(base + HXS_SHM_OFF_VALS);
	s->conns = (struct hxs_shm_conn *)(base + HXS_SHM_OFF_CONNS);
}

/* A file at path whose writer is gone is removed; a live one makes us fail with -EBUSY. */
static int take_over_stale(const char *path)
{
	struct hxs_shm_hdr h;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	ssize_t n = pread(fd, &h, sizeof(h), 0);
	close(fd);
	if (n == (ssize_t)sizeof(h) && h.magic == HXS_SHM_MAGIC && pid_alive(h.writer_pid, h.writer_start))
		return -EBUSY;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int hxs_shm__open(struct hxs_shm **out, const char *dir, const char *name, const char *ifname,
		  const char *desc)
{
	struct hxs_shm *s;
	char tmp[PATH_MAX + 32];
	uint64_t ino = 0;
	int fd, err, tries;
	void *base;
	struct timespec ts;

	if (!name || !*name || strchr(name, '/') || strlen(name) >= sizeof(s->hdr->name))
		return -EINVAL;
	err = netns_ino(&ino);
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	dir = shm_dir(dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		goto err_free;
	}
	err = hxs_shm__path_for(s->path, sizeof(s->path), dir, name);
	if (err)
		goto err_free;

	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", s->path, (int)getpid());
	unlink(tmp);
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto err_free;
	}
	if (ftruncate(fd, HXS_SHM_SIZE) < 0) {
		err = -errno;
		goto err_unlink_tmp;
	}
	base = mmap(NULL, HXS_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		err = -errno;
		goto err_unlink_tmp;
	}
	view_map(s, base);
	struct hxs_shm_hdr *h = s->hdr;
	h->version = HXS_SHM_VERSION;
	h->hdr_size = sizeof(*h);
	h->conn_size = sizeof(struct hxs_shm_conn);
	h->max_groups = HXS_SHM_MAX_GROUPS;
	h->max_counters = HXS_SHM_MAX_COUNTERS;
	h->max_conns = HXS_SHM_MAX_CONNS;
	h->name_len = HXS_SHM_NAME_LEN;
	h->total_size = HXS_SHM_SIZE;
	h->writer_pid = (uint32_t)getpid();
	h->writer_start = hxs_proc__start_time(getpid());
	h->netns_ino = ino;
	clock_gettime(CLOCK_REALTIME, &ts);
	h->created_unix_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (ifname)
		snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
	snprintf(h->name, sizeof(h->name), "%s", name);
	if (desc)
		snprintf(h->desc, sizeof(h->desc), "%s", desc);
	__atomic_store_n(&h->magic, HXS_SHM_MAGIC, __ATOMIC_RELEASE);

	/* link() fails when the name exists, so of two racing writers only one gets it. */
	for (tries = 0;; tries++) {
		if (link(tmp, s->path) == 0)
			break;
		err = -errno;
		if (err != -EEXIST || tries == 1)
			goto err_unmap;
		err = take_over_stale(s->path);
		if (err)
			goto err_unmap;
	}
	unlink(tmp);
	close(fd);
	*out = s;
	return 0;

err_unmap:
	munmap(base, HXS_SHM_SIZE);
err_unlink_tmp:
	unlink(tmp);
	close(fd);
err_free:
	free(s);
	return err;
}

void hxs_shm__close(struct hxs_shm *s)
{
	if (!s)
		return;
	unlink(s->path);
	munmap(s->base, HXS_SHM_SIZE);
	free(s);
}

const char *hxs_shm__path(const struct hxs_shm *s)
{
	return s->path;
}

/* --- counters ----------------------------------------------------------------------------- */
static int group_find(struct hxs_shm *s, const char *group, const char *const *names)
{
	uint32_t ng = s->hdr->n_groups;

	if (s->last_names == names && s->last_group < ng &&
	    strncmp(s->groups[s->last_group].name, group, sizeof(s->groups[0].name)) == 0)
		return (int)s->last_group;
	for (uint32_t i = 0; i < ng; i++)
		if (strncmp(s->groups[i].name, group, sizeof(s->groups[0].name)) == 0)
			return (int)i;
	return -ENOENT;
}

static int group_add(struct hxs_shm *s, const char *group, const char *const *names, unsigned n)
{
	struct hxs_shm_hdr *h = s->hdr;
	uint32_t ng = h->n_groups, first = h->n_counters;

	if (strlen(group) >= sizeof(s->groups[0].name))
		return -EINVAL;
	if (ng >= HXS_SHM_MAX_GROUPS || first + n > HXS_SHM_MAX_COUNTERS)
		return -ENOSPC;
	for (unsigned i = 0; i < n; i++) {
		if (strlen(names[i]) >= HXS_SHM_NAME_LEN)
			return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++)
		snprintf(s->names[first + i], HXS_SHM_NAME_LEN, "%s", names[i]);
	struct hxs_shm_group *g = &s->groups[ng];
	snprintf(g->name, sizeof(g->name), "%s", group);
	g->first = first;
	g->count = n;
	/* Readers find the group only once n_groups covers it, after names and record. */
	__atomic_store_n(&h->n_counters, first + n, __ATOMIC_RELEASE);
	__atomic_store_n(&h->n_groups, ng + 1, __ATOMIC_RELEASE);
	return (int)ng;
}

int hxs_shm__publish_counters(struct hxs_shm *s, const char *group, const char *const *names,
			      const uint64_t *vals, unsigned n, uint64_t now_us)
{
	int gi = group_find(s, group, names);

	if (gi == -ENOENT)
		gi = group_add(s, group, names, n);
	if (gi < 0)
		return gi;
	struct hxs_shm_group *g = &s->groups[gi];
	if (g->count != n)
		return -EINVAL;
	s->last_names = names;
	s->last_group = (unsigned)gi;
	seq_begin(&g->seq);
	copy_out(&s->vals[g->first], vals, n);
	seq_end(&g->seq);
	__atomic_store_n(&s->hdr->updated_us, now_us, __ATOMIC_RELAXED);
	return 0;
}

/* --- connections -------------------------------------------------------------------------- */
int hxs_shm__conn_update(struct hxs_shm *s, unsigned slot, const struct hxs_shm_conn_info *info)
{
	if (slot >= HXS_SHM_MAX_CONNS || info->state == HXS_SHM_FREE)
		return -ERANGE;
	struct hxs_shm_conn *c = &s->conns[slot];
	seq_begin(&c->seq);
	copy_out((uint64_t *)&c->info, (const uint64_t *)info, sizeof(*info) / 8);
	seq_end(&c->seq);
	if (slot >= s->hdr->conn_hwm)
		__atomic_store_n(&s->hdr->conn_hwm, slot + 1, __ATOMIC_RELEASE);
	return 0;
}

void hxs_shm__conn_free(struct hxs_shm *s, unsigned slot)
{
	static const struct hxs_shm_conn_info zero;

	if (slot >= HXS_SHM_MAX_CONNS)
		return;
	struct hxs_shm_conn *c = &s->conns[slot];
	seq_begin(&c->seq);
	copy_out((uint64_t *)&c->info, (const uint64_t *)&zero, sizeof(zero) / 8);
	seq_end(&c->seq);
}

/* --- reader ------------------------------------------------------------------------------- */
int hxs_shm_view__open(struct hxs_shm_view **out, const char *path)
{
	struct hxs_shm_view *v;
	struct stat sb;
	int fd, err;
	void *base;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		err = -errno;
		goto err_close;
	}
	if ((size_t)sb.st_size < sizeof(struct hxs_shm_hdr)) {
		err = -EPROTO;
		goto err_close;
	}
	base = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		err = -errno;
		goto err_close;
	}
	const struct hxs_shm_hdr *h = base;
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != HXS_SHM_MAGIC ||
	    h->version != HXS_SHM_VERSION || h->hdr_size != sizeof(*h) ||
	    h->conn_size != sizeof(struct hxs_shm_conn) || h->max_groups != HXS_SHM_MAX_GROUPS ||
	    h->max_counters != HXS_SHM_MAX_COUNTERS || h->max_conns != HXS_SHM_MAX_CONNS ||
	    h->name_len != HXS_SHM_NAME_LEN || h->total_size != HXS_SHM_SIZE ||
	    (size_t)sb.st_size < HXS_SHM_SIZE) {
		err = -EPROTO;
		goto err_unmap;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		err = -ENOMEM;
		goto err_unmap;
	}
	v->base = base;
	v->hdr = h;
	v->size = (size_t)sb.st_size;
	close(fd);
	*out = v;
	return 0;

err_unmap:
	munmap(base, (size_t)sb.st_size);
err_close:
	close(fd);
	return err;
}

void hxs_shm_view__close(struct hxs_shm_view *v)
{
	if (!v)
		return;
	munmap((void *)v->base, v->size);
	free(v);
}

const struct hxs_shm_hdr *hxs_shm_view__hdr(const struct hxs_shm_view *v)
{
	return v->hdr;
}

int hxs_shm_view__alive(const struct hxs_shm_view *v)
{
	return pid_alive(v->hdr->writer_pid, v->hdr->writer_start);
}

int hxs_shm_view__counters(const struct hxs_shm_view *v, struct hxs_shm_counter *out, unsigned max)
{
	const struct hxs_shm_group *groups = (const void *)(v->base + HXS_SHM_OFF_GROUPS);
	const char (*names)[HXS_SHM_NAME_LEN] = (const void *)(v->base + HXS_SHM_OFF_NAMES);
	const uint64_t *vals = (const void *)(v->base + HXS_SHM_OFF_VALS);
	uint64_t tmp[HXS_SHM_MAX_COUNTERS];
	uint32_t ng = __atomic_load_n(&v->hdr->n_groups, __ATOMIC_ACQUIRE);
	unsigned k = 0;

	if (ng > HXS_SHM_MAX_GROUPS)
		return -EPROTO;
	for (uint32_t gi = 0; gi < ng; gi++) {
		const struct hxs_shm_group *g = &groups[gi];
		uint32_t first = g->first, count = g->count, s;
		unsigned spins = 0;

		if (first > HXS_SHM_MAX_COUNTERS || count > HXS_SHM_MAX_COUNTERS - first)
			return -EPROTO;
		do {
			s = seq_read_begin(&g->seq, &spins);
			if (s & 1)
				return -EAGAIN;
			copy_in(tmp, &vals[first], count);
		} while (seq_read_retry(&g->seq, s, &spins) && spins < SEQ_SPINS);
		if (spins >= SEQ_SPINS)
			return -EAGAIN;
		for (uint32_t i = 0; i < count && k < max; i++, k++) {
			memcpy(out[k].group, g->name, sizeof(out[k].group));
			out[k].group[sizeof(out[k].group) - 1] = 0;
			memcpy(out[k].name, names[first + i], HXS_SHM_NAME_LEN);
			out[k].name[HXS_SHM_NAME_LEN - 1] = 0;
			out[k].val = tmp[i];
		}
	}
	return (int)k;
}

int hxs_shm_view__conn(const struct hxs_shm_view *v, unsigned slot, struct hxs_shm_conn_info *out)
{
	const struct hxs_shm_conn *conns = (const void *)(v->base + HXS_SHM_OFF_CONNS);
	unsigned spins = 0;
	uint32_t s;

	if (slot >= HXS_SHM_MAX_CONNS)
		return -ERANGE;
	const struct hxs_shm_conn *c = &conns[slot];
	do {
		s = seq_read_begin(&c->seq, &spins);
		if (s & 1)
			return -EAGAIN;
		copy_in((uint64_t *)out, (const uint64_t *)&c->info, sizeof(*out) / 8);
	} while (seq_read_retry(&c->seq, s, &spins) && spins < SEQ_SPINS);
	if (spins >= SEQ_SPINS)
		return -EAGAIN;
	return out->state != HXS_SHM_FREE;
}

int hxs_shm__list(const char *dir, int (*fn)(const char *path, void *ctx), void *ctx)
{
	char prefix[32], path[PATH_MAX];
	uint64_t ino = 0;
	int n = 0;
	int err = netns_ino(&ino);
	struct dirent *de;
	DIR *d;

	if (err)
		return err;
	dir = shm_dir(dir);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	snprintf(prefix, sizeof(prefix), "%llu-", (unsigned long long)ino);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || len < 5 ||
		    strcmp(de->d_name + len - 4, ".shm") != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		n++;
		err = fn(path, ctx);
		if (err)
			break;
	}
	closedir(d);
	return err < 0 ? err : n;
}

const char *hxs_shm_state_name(unsigned state)
{
	static const char *const names[HXS_SHM_STATE_MAX] = {
		[HXS_SHM_FREE] = "FREE",          [HXS_SHM_ESTAB] = "ESTAB",
		[HXS_SHM_SYN_SENT] = "SYN-SENT",  [HXS_SHM_SYN_RECV] = "SYN-RECV",
		[HXS_SHM_FIN_WAIT1] = "FIN-WAIT-1", [HXS_SHM_FIN_WAIT2] = "FIN-WAIT-2",
		[HXS_SHM_TIME_WAIT] = "TIME-WAIT", [HXS_SHM_UNCONN] = "UNCONN",
		[HXS_SHM_CLOSE_WAIT] = "CLOSE-WAIT", [HXS_SHM_LAST_ACK] = "LAST-ACK",
		[HXS_SHM_LISTEN] = "LISTEN",      [HXS_SHM_CLOSING] = "CLOSING",
	};
	return state < HXS_SHM_STATE_MAX ? names[state] : "UNKNOWN";
}
