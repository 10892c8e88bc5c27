/* stack_open.h - the constructor of a stack on a caller's io, beside the public
 * hxs_stack__open() / hxs_stack__close() of include/hxs/hxs.h (both in stack_open.c).
 *
 *   struct hxs_netif_static cfg = { .addr = ..., .prefix_len = 24, .mac = {...}, ... };
 *   hxs_stack__open_io(&st, io, &cfg);   the static control plane, no XDP; the io stays the
 *                                        caller's (hxs_stack__close does not close it)
 */
#ifndef HXS_STACK_OPEN_H
#define HXS_STACK_OPEN_H

#include "net/stack.h"

int hxs_stack__open_io(struct hxs_stack **out, struct hxs_io *io, const struct hxs_netif_static *cfg);

#endif
