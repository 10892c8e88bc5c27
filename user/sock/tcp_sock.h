/* tcp_sock.h - TCP sockets: the TCP core (tcp.h) behind the socket layer (sock.h) of a stack.
 *
 * The stack knows only these four entry points; everything else goes through the protocol
 * table (hxs_tcp_sock_ops, registered for SOCK_STREAM by hxs_stack__init()):
 *   stack_turn()       -> hxs_tcp_sock__poll()      TCP timers + pending output, once a turn
 *   hxs_stack__poll()  -> hxs_tcp_sock__deadline()  when the turn must run again for TCP
 *   hxs_stack__close() -> st->tcp_fini -> hxs_tcp_sock__fini()   free what lingers, the core
 * The core itself is created with the first SOCK_STREAM socket (the stack's address and MTU
 * are known by then).
 */
#ifndef HXS_TCP_SOCK_H
#define HXS_TCP_SOCK_H

#include <stdint.h>

struct hxs_stack;
struct hxs_proto_ops;

extern const struct hxs_proto_ops hxs_tcp_sock_ops;

/* Runs TCP timers and sends what connections have pending; returns segments sent. */
int hxs_tcp_sock__poll(struct hxs_stack *st, uint64_t now);
/* Earliest time TCP needs a turn (UINT64_MAX: none; 0: now). */
uint64_t hxs_tcp_sock__deadline(const struct hxs_stack *st);
/* Stack closing (st->tcp_fini, after socket.c closed every fd): resets a TCP socket still
 * holding an fd, drops lingering connections (FIN_WAIT, TIME_WAIT) with their ports and
 * steering entries, and frees the core. The port tables must still exist. */
void hxs_tcp_sock__fini(struct hxs_stack *st);

#endif
