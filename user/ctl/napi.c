/* napi.c - threaded NAPI on and off, its threads pinned (see napi.h).
 *
 * hxs_napi__thread()   -> write_threaded("1") -> for each /proc/PID/comm "napi/IF-ID":
 *                         sched_setaffinity(PID, {cpu})
 * hxs_napi__unthread() -> write_threaded("0")
 *
 * The kernel shows a kernel thread's whole name in /proc/PID/comm (longer than the 15
 * characters of a user task's), so "napi/IF-" followed by digits names IF's threads only.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "napi.h"

static int write_threaded(const char *ifname, const char *val)
{
	char path[64 + IF_NAMESIZE];
	int fd, err = 0;

	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/'))
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/class/net/%s/threaded", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* 1 when comm is "napi/IFNAME-" and digits. */
static int is_napi_of(const char *comm, const char *ifname)
{
	size_t n = strlen(ifname);

	if (strncmp(comm, "napi/", 5) || strncmp(comm + 5, ifname, n) || comm[5 + n] != '-')
		return 0;
	comm += 6 + n;
	if (!isdigit((unsigned char)*comm))
		return 0;
	while (isdigit((unsigned char)*comm))
		comm++;
	return *comm == '\0' || *comm == '\n';
}

int hxs_napi__thread(const char *ifname, int cpu)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	struct dirent *d;
	cpu_set_t set;
	int err, n = 0;
	DIR *dir;

	if (cpu >= 0 && (ncpu <= 0 || cpu >= ncpu || cpu >= CPU_SETSIZE))
		return -EINVAL;
	err = write_threaded(ifname, "1");
	if (err)
		return err;
	CPU_ZERO(&set);
	if (cpu >= 0)
		CPU_SET(cpu, &set);
	else
		for (long c = 0; c < ncpu && c < CPU_SETSIZE; c++)
			CPU_SET(c, &set);
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		char path[300], comm[80];
		ssize_t len;
		int fd;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (len <= 0)
			continue;
		comm[len] = '\0';
		if (!is_napi_of(comm, ifname))
			continue;
		if (sched_setaffinity((pid_t)atoi(d->d_name), sizeof(set), &set)) {
			err = -errno;
			break;
		}
		n++;
	}
	closedir(dir);
	if (err)
		return err;
	return n ? n : -ENOENT;
}

int hxs_napi__unthread(const char *ifname)
{
	return write_threaded(ifname, "0");
}
