/* test_stats_shm.c - the statistics region: a writer and a reader mapping in one process,
 * exact counter and connection values, the seqlock under a concurrent writer thread, stale
 * files of dead writers, live-name refusal, file mode, listing and header validation.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "hxs/stats.h"

static char dir[PATH_MAX];

static const char *const tcp_names[] = { "TcpActiveOpens", "TcpPassiveOpens", "TcpRetransSegs" };
static const char *const ip_names[] = { "IpInReceives", "IpInDelivers" };

static void fill_info(struct hxs_shm_conn_info *ci, uint64_t k)
{
	memset(ci, 0, sizeof(*ci));
	for (int i = 0; i < 16; i++) {
		ci->laddr[i] = (uint8_t)(k + i);
		ci->raddr[i] = (uint8_t)(k * 3 + i);
	}
	ci->lport = (uint16_t)k;
	ci->rport = (uint16_t)(k * 5);
	ci->state = HXS_SHM_ESTAB;
	ci->proto = 6;
	ci->rtt_us = (uint32_t)k;
	ci->rttvar_us = (uint32_t)(k * 2);
	ci->rto_us = (uint32_t)(k * 4);
	ci->cwnd = (uint32_t)(k * 7);
	ci->ssthresh = (uint32_t)(k * 11);
	ci->mss = 1448;
	ci->bytes_acked = k * 1000003ull;
	ci->bytes_received = k * 999983ull;
	ci->segs_out = k * 13;
	ci->segs_in = k * 17;
	ci->total_retrans = k * 19;
	ci->snd_queue = (uint32_t)(k * 23);
	ci->rcv_queue = (uint32_t)(k * 29);
	ci->updated_us = k;
}

/* 1 when every field agrees with the same k (a torn copy mixes two). */
static int info_consistent(const struct hxs_shm_conn_info *ci, uint64_t *k_out)
{
	struct hxs_shm_conn_info want;
	uint64_t k = ci->updated_us;
	fill_info(&want, k);
	*k_out = k;
	return memcmp(&want, ci, sizeof(want)) == 0;
}

static void test_roundtrip(void)
{
	struct hxs_shm *w = NULL;
	struct hxs_shm_view *v = NULL;
	struct hxs_shm_counter c[16];
	struct hxs_shm_conn_info ci, got;
	uint64_t tv[3] = { 5, 7, 11 }, iv[2] = { 1000, 999 };
	struct stat sb;
	char path[PATH_MAX];
	int n;

	t_case("open: file <netns inode>-<name>.shm, mode 0600, header");
	CHECK_EQ(hxs_shm__open(&w, dir, "veth9", "veth9", "test stack"), 0);
	if (!w)
		return;
	CHECK_EQ(hxs_shm__path_for(path, sizeof(path), dir, "veth9"), 0);
	CHECK(strcmp(path, hxs_shm__path(w)) == 0, "%s vs %s", path, hxs_shm__path(w));
	CHECK_EQ(stat(path, &sb), 0);
	CHECK_EQ(sb.st_mode & 0777, 0600);
	CHECK_EQ((long long)sb.st_size, (long long)HXS_SHM_SIZE);
	CHECK_EQ(hxs_shm_view__open(&v, path), 0);
	if (!v)
		goto out;
	const struct hxs_shm_hdr *h = hxs_shm_view__hdr(v);
	CHECK_EQ(h->writer_pid, getpid());
	CHECK(strcmp(h->ifname, "veth9") == 0);
	CHECK(strcmp(h->desc, "test stack") == 0);
	CHECK_EQ(hxs_shm_view__alive(v), 1);

	t_case("counters: groups registered once, values exact through the read-only mapping");
	CHECK_EQ(hxs_shm_view__counters(v, c, 16), 0);
	CHECK_EQ(hxs_shm__publish_counters(w, "Tcp", tcp_names, tv, 3, 100), 0);
	CHECK_EQ(hxs_shm__publish_counters(w, "Ip", ip_names, iv, 2, 200), 0);
	n = hxs_shm_view__counters(v, c, 16);
	CHECK_EQ(n, 5);
	CHECK(strcmp(c[0].group, "Tcp") == 0 && strcmp(c[0].name, "TcpActiveOpens") == 0);
	CHECK_EQ(c[0].val, 5);
	CHECK_EQ(c[2].val, 11);
	CHECK(strcmp(c[3].group, "Ip") == 0 && strcmp(c[4].name, "IpInDelivers") == 0);
	CHECK_EQ(c[4].val, 999);
	CHECK_EQ(h->updated_us, 200);
	tv[2] = 12345678901ull;
	CHECK_EQ(hxs_shm__publish_counters(w, "Tcp", tcp_names, tv, 3, 300), 0);
	CHECK_EQ(hxs_shm_view__counters(v, c, 16), 5);
	CHECK_EQ(c[2].val, 12345678901ll);
	CHECK_EQ(h->n_groups, 2);
	CHECK_EQ(hxs_shm__publish_counters(w, "Tcp", tcp_names, tv, 2, 300), -EINVAL);
	CHECK_EQ(hxs_shm_view__counters(v, c, 2), 2);

	t_case("connections: update, read back equal, free, bounds");
	fill_info(&ci, 42);
	CHECK_EQ(hxs_shm_view__conn(v, 7, &got), 0);
	CHECK_EQ(hxs_shm__conn_update(w, 7, &ci), 0);
	CHECK_EQ(hxs_shm_view__conn(v, 7, &got), 1);
	CHECK(memcmp(&got, &ci, sizeof(ci)) == 0);
	CHECK_EQ(h->conn_hwm, 8);
	CHECK_EQ(hxs_shm__conn_update(w, 2, &ci), 0);
	CHECK_EQ(h->conn_hwm, 8);
	hxs_shm__conn_free(w, 7);
	CHECK_EQ(hxs_shm_view__conn(v, 7, &got), 0);
	CHECK_EQ(hxs_shm_view__conn(v, 2, &got), 1);
	CHECK_EQ(hxs_shm__conn_update(w, HXS_SHM_MAX_CONNS, &ci), -ERANGE);
	CHECK_EQ(hxs_shm_view__conn(v, HXS_SHM_MAX_CONNS, &got), -ERANGE);
	ci.state = HXS_SHM_FREE;
	CHECK_EQ(hxs_shm__conn_update(w, 3, &ci), -ERANGE);
	CHECK(strcmp(hxs_shm_state_name(HXS_SHM_LISTEN), "LISTEN") == 0);

	t_case("a second writer under a live name gets -EBUSY");
	{
		struct hxs_shm *w2 = NULL;
		CHECK_EQ(hxs_shm__open(&w2, dir, "veth9", NULL, NULL), -EBUSY);
		CHECK_EQ(hxs_shm__open(&w2, dir, "a/b", NULL, NULL), -EINVAL);
		hxs_shm__close(w2);
	}

out:
	t_case("close unlinks; the reader's mapping stays valid");
	hxs_shm__close(w);
	CHECK(access(path, F_OK) < 0 && errno == ENOENT);
	if (v) {
		CHECK_EQ(hxs_shm_view__conn(v, 2, &got), 1);
		CHECK_EQ(hxs_shm_view__alive(v), 1);
	}
	hxs_shm_view__close(v);
}

static int count_cb(const char *path, void *ctx)
{
	(*(int *)ctx)++;
	return strstr(path, ".shm") ? 0 : -EINVAL;
}

static void test_stale_and_list(void)
{
	struct hxs_shm *w = NULL;
	struct hxs_shm_view *v = NULL;
	char path[PATH_MAX];
	int status, n = 0;
	pid_t child;

	t_case("stale file of a dead writer: reader sees it dead, a new writer takes the name over");
	child = fork();
	if (child == 0) {
		struct hxs_shm *cw;
		uint64_t one = 1;
		if (hxs_shm__open(&cw, dir, "stale0", "eth0", NULL) != 0)
			_exit(1);
		hxs_shm__publish_counters(cw, "Ip", ip_names, &one, 1, 1);
		_exit(0); /* no close: the file stays behind */
	}
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ(hxs_shm__path_for(path, sizeof(path), dir, "stale0"), 0);
	CHECK_EQ(access(path, F_OK), 0);
	CHECK_EQ(hxs_shm_view__open(&v, path), 0);
	if (v) {
		CHECK_EQ(hxs_shm_view__hdr(v)->writer_pid, child);
		CHECK_EQ(hxs_shm_view__alive(v), 0);
		hxs_shm_view__close(v);
		v = NULL;
	}
	CHECK_EQ(hxs_shm__open(&w, dir, "stale0", "eth0", NULL), 0);
	CHECK_EQ(hxs_shm_view__open(&v, path), 0);
	if (v) {
		struct hxs_shm_counter c[4];
		CHECK_EQ(hxs_shm_view__hdr(v)->writer_pid, getpid());
		CHECK_EQ(hxs_shm_view__counters(v, c, 4), 0);
		hxs_shm_view__close(v);
		v = NULL;
	}

	t_case("list: the stacks of this netns in the directory");
	CHECK_EQ(hxs_shm__list(dir, count_cb, &n), 1);
	CHECK_EQ(n, 1);
	hxs_shm__close(w);
	n = 0;
	CHECK_EQ(hxs_shm__list(dir, count_cb, &n), 0);

	t_case("reader rejects a file of another version or size");
	{
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
		struct hxs_shm_hdr hh = { .magic = HXS_SHM_MAGIC, .version = 99 };
		CHECK(fd >= 0);
		CHECK(write(fd, &hh, sizeof(hh)) == (ssize_t)sizeof(hh));
		close(fd);
		CHECK_EQ(hxs_shm_view__open(&v, path), -EPROTO);
		/* and a writer treats it as stale (no live writer in it) */
		CHECK_EQ(hxs_shm__open(&w, dir, "stale0", NULL, NULL), 0);
		hxs_shm__close(w);
		CHECK_EQ(hxs_shm_view__open(&v, "/nonexistent/x.shm"), -ENOENT);
	}
}

struct race {
	struct hxs_shm *w;
	volatile int stop;
	uint64_t writes;
};

static const char *const race_names[] = { "A", "B", "C", "D", "E", "F", "G", "H" };

static void *writer_thread(void *arg)
{
	struct race *r = arg;
	struct hxs_shm_conn_info ci;
	uint64_t vals[8];

	for (uint64_t k = 1; !r->stop; k++) {
		fill_info(&ci, k);
		hxs_shm__conn_update(r->w, 5, &ci);
		for (int i = 0; i < 8; i++)
			vals[i] = k * 8 + (uint64_t)i;
		hxs_shm__publish_counters(r->w, "Race", race_names, vals, 8, k);
		r->writes = k;
	}
	return NULL;
}

static void test_seqlock_race(void)
{
	struct race r = { 0 };
	struct hxs_shm_view *v = NULL;
	struct hxs_shm_counter c[8];
	struct hxs_shm_conn_info got;
	uint64_t last_k = 0, distinct = 0, torn = 0, reads = 0, errs = 0, busy = 0, k;
	pthread_t th;

	t_case("seqlock: a reader never sees a torn record while a thread keeps writing");
	CHECK_EQ(hxs_shm__open(&r.w, dir, "race", NULL, NULL), 0);
	if (!r.w)
		return;
	fill_info(&got, 0);
	hxs_shm__conn_update(r.w, 5, &got);
	CHECK_EQ(hxs_shm_view__open(&v, hxs_shm__path(r.w)), 0);
	if (!v) {
		hxs_shm__close(r.w);
		return;
	}
	CHECK_EQ(pthread_create(&th, NULL, writer_thread, &r), 0);
	for (int i = 0; i < 200000 || distinct < 100; i++) {
		int rc = hxs_shm_view__conn(v, 5, &got);
		reads++;
		if (rc == -EAGAIN) {
			busy++;         /* the writer held the record (preempted mid-write): try again */
			continue;
		}
		if (rc != 1) {
			errs++;
			continue;
		}
		if (!info_consistent(&got, &k))
			torn++;
		else if (k != last_k) {
			if (k < last_k)
				torn++; /* went backwards: impossible with one writer */
			distinct++;
			last_k = k;
		}
		int n = hxs_shm_view__counters(v, c, 8);
		if (n == 8) {
			uint64_t base = c[0].val;
			for (int j = 1; j < 8; j++)
				if (c[j].val != base + (uint64_t)j)
					torn++;
		} else if (n == -EAGAIN) {
			busy++;
		} else if (n != 0) { /* 0: group not registered yet */
			errs++;
		}
		if (i > 5000000)
			break;
	}
	r.stop = 1;
	pthread_join(th, NULL);
	CHECK_EQ(torn, 0);
	CHECK_EQ(errs, 0);
	CHECK(distinct >= 100, "reader saw only %llu distinct versions in %llu reads (%llu writes)",
	      (unsigned long long)distinct, (unsigned long long)reads, (unsigned long long)r.writes);
	printf("# %llu reads (%llu found the writer busy), %llu distinct versions seen, %llu writes\n",
	       (unsigned long long)reads, (unsigned long long)busy, (unsigned long long)distinct,
	       (unsigned long long)r.writes);
	hxs_shm_view__close(v);
	hxs_shm__close(r.w);
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/hxs-shm-test.XXXXXX", t && *t ? t : P_tmpdir);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_roundtrip();
	test_stale_and_list();
	test_seqlock_race();
	rmdir(dir);
	return t_done();
}
