/* bpf/bpf_helpers.h - stands in for libbpf's header when tests/fuzz/xdp.c compiles the XDP
 * program (bpf/hxs.bpf.c) as ordinary userspace C. The fuzz targets are built with
 * -Itests/fuzz/lib, so `#include <bpf/bpf_helpers.h>` finds this file first; libbpf's
 * defines the helpers as pointers to BPF helper numbers, here they are functions of the
 * harness (maps as plain tables, the frame's length, the redirect). bpf_endian.h is
 * libbpf's own: it is plain C. */
#ifndef HXS_FUZZ_BPF_HELPERS_H
#define HXS_FUZZ_BPF_HELPERS_H

#include <linux/types.h>

#define SEC(name)
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define LIBBPF_PIN_BY_NAME 1

void *bpf_map_lookup_elem(void *map, const void *key);
long bpf_map_update_elem(void *map, const void *key, const void *value, __u64 flags);
long bpf_redirect_map(void *map, __u64 key, __u64 flags);
__u64 bpf_xdp_get_buff_len(void *ctx);   /* the harness's context type */
long bpf_xdp_load_bytes(void *ctx, __u32 offset, void *buf, __u32 len);
long bpf_xdp_adjust_meta(void *ctx, int delta);
long bpf_ringbuf_output(void *ringbuf, void *data, __u64 size, __u64 flags);
long bpf_loop(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags);
/* SYN cookies (bpf/syncookie_xdp.h): no bind entry of the harness has HXS_BIND_F_COOKIES,
 * so these abort if reached */
long bpf_xdp_store_bytes(void *ctx, __u32 off, void *buf, __u32 len);
long bpf_xdp_adjust_tail(void *ctx, int delta);
__u64 bpf_ktime_get_ns(void);
long bpf_redirect(__u32 ifindex, __u64 flags);

#endif
