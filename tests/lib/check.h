/* check.h - the test harness every C test uses.
 *
 * A test program is a sequence of cases:  t_case("name"); CHECK(...); ... ; return t_done();
 * Each case prints one TAP-style line, "ok N - name" or "not ok N - name", and every failed
 * CHECK prints "#   file:line: expression: message" under it. scripts/run-tests.sh counts the
 * lines; a program that exits non-zero without "not ok" counts as one failure.
 */
#ifndef HXS_TEST_CHECK_H
#define HXS_TEST_CHECK_H

/* CHECK(cond) without a message passes "" as the format. */
#pragma GCC diagnostic ignored "-Wformat-zero-length"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const char *t_cur_name;
static int t_cur_failed, t_n, t_failed;

static inline void t_end_case(void)
{
	if (!t_cur_name)
		return;
	t_n++;
	printf("%sok %d - %s\n", t_cur_failed ? "not " : "", t_n, t_cur_name);
	if (t_cur_failed)
		t_failed++;
	t_cur_name = NULL;
	fflush(stdout);
}

/* Starts a new case (ending the previous one). */
static inline void t_case(const char *name)
{
	t_end_case();
	t_cur_name = name;
	t_cur_failed = 0;
}

static inline int t_check(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static inline int t_check(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
	if (ok)
		return 1;
	if (!t_cur_name)
		t_case("(setup)");
	t_cur_failed = 1;
	printf("#   %s:%d: %s", file, line, expr);
	if (fmt && *fmt) {
		va_list ap;
		va_start(ap, fmt);
		printf(": ");
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	return 0;
}

/* CHECK(cond, "fmt", args...): records a failure in the current case; evaluates to cond. */
#define CHECK(cond, ...) t_check(!!(cond), __FILE__, __LINE__, #cond, "" __VA_ARGS__)
/* CHECK_EQ(a, b): integer equality with both values printed. */
#define CHECK_EQ(a, b)                                                                      \
	({                                                                                  \
		long long _a = (long long)(a), _b = (long long)(b);                         \
		t_check(_a == _b, __FILE__, __LINE__, #a " == " #b, "%lld != %lld", _a, _b); \
	})

/* Ends the last case; returns the exit status for main(). */
static inline int t_done(void)
{
	t_end_case();
	printf("# %d cases, %d failed\n", t_n, t_failed);
	return t_failed ? 1 : 0;
}

/* Skips the whole program (e.g. not root): prints a reason, counts nothing. */
#define T_SKIP_ALL(...)                          \
	do {                                     \
		printf("# SKIP " __VA_ARGS__);   \
		printf("\n");                    \
		exit(77);                        \
	} while (0)

#endif
