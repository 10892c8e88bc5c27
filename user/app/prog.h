/* prog.h - what the programs in user/bin have in common: a stop flag that SIGINT/SIGTERM set,
 * the command-line options of a stack, opening it with the program's own error line, the one
 * "ready" line tests and scripts wait for, and closing it with its counters.
 *
 *   static volatile sig_atomic_t stop;
 *   static const struct option lopts[] = { HXS_PROG_OPT_IFACE, HXS_PROG_OPT_BUSY_POLL, ... };
 *   struct hxs_prog p = { .name = "hxs-udp-echo", .port = -1 };
 *
 *   while ((c = getopt_long(argc, argv, "i:p:a:bv", lopts, NULL)) != -1) {
 *           if (hxs_prog__opt(&p, c, optarg) > 0)      -i -p -a --busy-poll -v --kernel
 *                   continue;
 *           switch (c) { the program's own options; default: usage(); }
 *   }
 *   hxs_prog__catch_stop(&stop, 0)           SIGINT/SIGTERM -> stop = 1 (a wait ends: -EINTR)
 *   hxs_prog__open_stack(&p, &st)            hxs_stack__open(&p.stack) | hxs_prog__open_appnet()
 *   hxs_prog__ready_stack(&p, st, err)       "NAME: ready on IF ADDR:PORT (DESC)" | __ready()
 *   while (!stop) { n = hxs_epoll_wait(); if (hxs_prog__wait_failed(&p, n)) break; serve }
 *   hxs_prog__close_stack(st, all)           counters on stderr, hxs_stack__close()
 *
 * A program passes to getopt only the letters it takes: sharing the parser adds no option.
 * Errors go to stderr as "NAME: what: why"; the exit codes stay the program's.
 */
#ifndef HXS_APP_PROG_H
#define HXS_APP_PROG_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <hxs/hxs.h>

struct hxs_appnet;

/* What the shared options fill. */
struct hxs_prog {
	const char *name;               /* the program's name: the prefix of what it prints */
	struct hxs_stack_opts stack;    /* -i IFACE, -a MODE, --busy-poll, -v (counted) */
	bool kernel;                    /* --kernel: the kernel's sockets (appnet programs) */
	long port;                      /* -p PORT as strtol() reads it; the program's default */
};

/* The long options hxs_prog__opt() understands; a program lists the ones it takes. */
#define HXS_PROG_OPT_IFACE      { "iface", required_argument, NULL, 'i' }
#define HXS_PROG_OPT_PORT       { "port", required_argument, NULL, 'p' }
#define HXS_PROG_OPT_ATTACH     { "attach", required_argument, NULL, 'a' }
#define HXS_PROG_OPT_BUSY_POLL  { "busy-poll", no_argument, NULL, 'b' }
#define HXS_PROG_OPT_VERBOSE    { "verbose", no_argument, NULL, 'v' }
#define HXS_PROG_OPT_KERNEL     { "kernel", no_argument, NULL, 'K' }
#define HXS_PROG_OPT_NAPI_CPU   { "napi-cpu", required_argument, NULL, 'N' }

/* Takes getopt's c if it is one of the shared options ('i' 'p' 'a' 'b' 'v' 'K' 'N'): 1 when
 * taken, 0 when it is not one of them, -EINVAL when its value is wrong (-a
 * auto|native|skb|existing, --napi-cpu CPU|any);
 * the program's switch sees every c not taken, and its default case calls usage(). */
int hxs_prog__opt(struct hxs_prog *p, int c, const char *arg);

/* Flags of hxs_prog__catch_stop(). */
#define HXS_PROG_RESTART    (1 << 0)    /* SA_RESTART, as signal() sets it: calls resume */
#define HXS_PROG_NO_SIGPIPE (1 << 1)    /* ignore SIGPIPE: a send to a closed peer is -EPIPE */

/* SIGINT and SIGTERM set *stop to 1. Without HXS_PROG_RESTART a signal ends a blocking wait
 * (hxs_epoll_wait, epoll_wait) with -EINTR, so the loop sees the flag at once. */
void hxs_prog__catch_stop(volatile sig_atomic_t *stop, int flags);
/* Raises the soft limit of open files to the hard one: many connections each hold a socket
 * (kernel backend) and maybe a file. */
void hxs_prog__raise_nofile(void);

/* hxs_stack__open(&p->stack); on failure says "NAME: cannot open a stack on IF: why". */
int hxs_prog__open_stack(const struct hxs_prog *p, struct hxs_stack **st);
/* hxs_appnet__open() with p's interface, busy polling, verbosity and --kernel; on failure
 * says "NAME: cannot open the kernel|hxs stack[ on IF]: why". */
int hxs_prog__open_appnet(const struct hxs_prog *p, struct hxs_appnet **an);
/* Lets the stack take in what is done (one turn), writes its counters to stderr (all: the
 * zero ones too), closes it. */
void hxs_prog__close_stack(struct hxs_stack *st, int all);

/* Looks at an epoll wait's result n: false for events, a timeout or -EINTR (a signal: the
 * loop looks at its stop flag next); true for an error, said as "NAME: epoll_wait: why". */
bool hxs_prog__wait_failed(const struct hxs_prog *p, int n);

/* "NAME: [ROLE ]ready on " and then fmt, as one line on stdout, flushed. role may be NULL. */
void hxs_prog__ready(const struct hxs_prog *p, const char *role, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The end of a server's set-up on p->port of an hxs stack: with err < 0 it says
 * "NAME: port PORT: why", closes the stack and returns err; else it prints the ready line,
 * "NAME: ready on IF ADDR:PORT (DESC)", and returns 0. */
int hxs_prog__ready_stack(const struct hxs_prog *p, struct hxs_stack *st, int err);

#endif
