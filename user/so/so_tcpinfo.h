/* so_tcpinfo.h - what the libraries of user/so/ share: the kernel's struct tcp_info made from
 * hxs's (getsockopt(TCP_INFO) in the packetdrill target and in the LD_PRELOAD shim).
 */
#ifndef HXS_SO_TCPINFO_H
#define HXS_SO_TCPINFO_H

#include <sys/socket.h>

#include "hxs/hxs.h"

/* tcp_get_info(): the fields hxs keeps, in the kernel's struct tcp_info, the rest 0;
 * truncated to *len as the kernel does (*len set to what was written). 0 or -EINVAL. */
int hxs_so_tcp_info(const struct hxs_tcp_info *hi, void *val, socklen_t *len);

#endif
