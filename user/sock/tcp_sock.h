/* tcp_sock.h - TCP sockets: the TCP core (tcp/tcp.h) behind the socket layer (sock.h) of a stack.
 *
 * The assembly (user/open/) knows two entry points; everything else goes through the protocol
 * table (hxs_tcp_sock_ops) and what the first TCP socket registers with the stack:
 *   hxs_stack__open*()  -> hxs_tcp_sock__attach()   SOCK_STREAM sockets of this stack
 *   first TCP socket    -> the core, made once the stack's address and MTU are known, its
 *                          IPPROTO_TCP input, a poller (TCP timers + pending output once a
 *                          turn, and its deadline) and its counter tables
 *   hxs_stack__close()  -> hxs_tcp_sock__fini()     after every fd was closed: free what
 *                          lingers, the core
 */
#ifndef HXS_TCP_SOCK_H
#define HXS_TCP_SOCK_H

#include <stdint.h>

struct hxs_stack;
struct hxs_proto_ops;

extern const struct hxs_proto_ops hxs_tcp_sock_ops;

/* Registers SOCK_STREAM sockets with the stack's socket layer. */
int hxs_tcp_sock__attach(struct hxs_stack *st);
/* Stack closing (after hxs_socket__close_all closed every fd): resets a TCP socket still
 * holding an fd, drops lingering connections (FIN_WAIT, TIME_WAIT) with their ports and
 * steering entries, and frees the core. The port tables must still exist. */
void hxs_tcp_sock__fini(struct hxs_stack *st);
/* The application is back in its event loop (hxs_epoll_wait), or reads a TCP socket
 * (tcp_recvmsg): the segment each socket a send left with one waiting (a request or a
 * response on an idle connection) goes now, kicked, before the stack's turn or the read. */
void hxs_tcp_sock__push(struct hxs_stack *st);
/* Connections closed (or shut down for writing) whose data or FIN the peer has not
 * acknowledged yet (FIN-WAIT-1, CLOSING, LAST-ACK): what tearing the stack down now loses. */
uint32_t hxs_tcp_sock__owing(const struct hxs_stack *st);

#endif
