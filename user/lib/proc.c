/* proc.c - a process's start time from /proc/PID/stat (why: proc.h).
 *
 * hxs_proc__start_time() -> read /proc/PID/stat -> skip past the last ')' (the command name
 * may hold spaces and parentheses) -> count fields to starttime (22) -> strtoull
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

uint64_t hxs_proc__start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, field = 2;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* after ") " come fields 3..: state(3) ... starttime(22) */
	for (p++; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	return strtoull(p, NULL, 10);
}
