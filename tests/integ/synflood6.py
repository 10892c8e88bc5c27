#!/usr/bin/env python3
"""synflood6.py - unanswered TCP SYNs over IPv6 at full speed (hping3 has no IPv6).

    synflood6.py DST_ADDR DST_PORT [SECONDS]

A raw IPv6 socket (the kernel writes the IPv6 header; IPV6_CHECKSUM has it fill the TCP
checksum at offset 16, RFC 3542 §3.1): SYN only, no options, source port and ISN random per
segment, from this namespace's own address. The source ports stay below the kernel's
ephemeral range (1024-32767; ip_local_port_range starts at 32768): a flood SYN queued in the
listener's SYN queue with the port curl then picks would make curl's SYN a duplicate of a
half-open connection (answered with that one's SYN-ACK, which curl's kernel resets), a
collision a spoofed flood from other addresses never has. The caller drops the kernel's RSTs to the
SYN-ACKs (nft), so the SYNs stay unanswered as from spoofed sources. Prints the count sent.
"""
import os
import socket
import struct
import sys
import time

IPV6_CHECKSUM = getattr(socket, "IPV6_CHECKSUM", 7)


def main():
    dst, dport = sys.argv[1], int(sys.argv[2])
    secs = float(sys.argv[3]) if len(sys.argv) > 3 else 120.0
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
    s.setsockopt(socket.IPPROTO_IPV6, IPV6_CHECKSUM, 16)
    s.setblocking(False)
    addr = (dst, 0)
    # RFC 9293 §3.1: ports, SEQ, ACK 0, data offset 5, SYN, window 64240, checksum 0 (filled)
    tail = struct.pack("!IBBHHH", 0, 5 << 4, 0x02, 64240, 0, 0)
    rnd = os.urandom(6 * 4096)
    sent = i = 0
    end = time.monotonic() + secs
    while True:
        for _ in range(4096):
            o = 6 * (i & 4095)
            sport = 1024 + (int.from_bytes(rnd[o:o + 2], "big") % 31744)
            seg = struct.pack("!HH", sport, dport) + rnd[o + 2:o + 6] + tail
            i += 1
            try:
                s.sendto(seg, addr)
                sent += 1
            except (BlockingIOError, OSError):
                pass
        if time.monotonic() >= end:
            break
        rnd = os.urandom(6 * 4096)
    print(sent, flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
