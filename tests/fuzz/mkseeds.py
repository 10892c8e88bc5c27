#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/TARGET/ (checked in; run again after changing an
input format):  python3 tests/fuzz/mkseeds.py

Each seed is a small input that reaches something meaningful (a handshake, data both ways,
SACK, a valid datagram, a steered frame ...), so the fuzzer starts from inside the protocol
instead of having to find the way in. The encodings are the targets' (see each target's
header comment)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(bytes(data))


def u16(v):
    return struct.pack('>H', v & 0xffff)


def u32(v):
    return struct.pack('>I', v & 0xffffffff)


# --- tcp_conn ---------------------------------------------------------------------------
# config: c0 (MTU/options/cc/buffers), ISS base (4), c5 (peer TS base, challenge limit),
# c6 (SYN backlog, listen backlog), c7 (MSL / 200 ms)
SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10
(DT0, DT50US, DT200US, DT1MS, DT5MS, DT20MS, DT40MS, DT100MS, DT200MS, DT500MS, DT1S,
 DT3S, DT10S, DT60S, DT300S, DT1H) = range(16)


def cfg(c0=0, iss=0x01000000, c5=0, c6=0x38, c7=0):
    return bytes([c0]) + u32(iss) + bytes([c5, c6, c7])


def seg(peer=0, lkind=0, flags=ACK, seqmode=0, seq=0, ackmode=0, ack=0, wnd=0xff, dlen=0,
        opts=None, sack=(), raw=None, dt=DT0, bad=False):
    """opts: None (no options), 'auto'; for a SYN with 'auto': (sb, mss) in syn_opts."""
    sel = peer | lkind << 2 | seqmode << 4 | ackmode << 6
    out = bytes([dt << 4 | 0, sel, flags])
    out += {0: bytes([seq & 0xff]), 1: u16(seq), 2: u32(seq), 3: u16(seq)}[seqmode]
    out += {0: bytes([ack & 0xff]), 1: u16(ack), 2: u32(ack), 3: u16(ack)}[ackmode]
    lbyte = dlen if dlen < 200 else 200 + (dlen - 200) // 32
    out += bytes([wnd, lbyte])
    os_ = 0x80 if bad else 0
    if raw is not None:
        os_ |= 3 | (len(raw) // 4) << 2
        out += bytes([os_]) + bytes(raw)
    elif opts is None:
        out += bytes([os_])
    elif flags & SYN:
        sb, mss = opts
        out += bytes([os_ | 1, sb]) + u16(mss)
    else:
        out += bytes([os_ | 1 | len(sack) << 2])
        for start, length in sack:
            out += u16(start) + u16(length)
    return out


def echo(peer=0, lkind=0, data100=0, fin=False, dt=DT0):
    """The peer acknowledges all the stack sent, with data100 * 100 bytes and a FIN."""
    return bytes([dt << 4 | 4, peer | (lkind & 1) << 2 | (data100 & 15) << 3 | fin << 7])


def echo_synack(peer=0, lkind=1, mss64=15, dt=DT0):
    """The peer answers the stack's SYN: MSS 536 + 64 * mss64."""
    return bytes([dt << 4 | 4, peer | (lkind & 1) << 2 | (mss64 & 31) << 3])


def connect(peer=0, nodelay=False, maxseg=False, rcvbuf=False, linger0=False, keep=False,
            newreno=False, dt=DT0):
    b = peer | nodelay << 2 | maxseg << 3 | rcvbuf << 4 | linger0 << 5 | keep << 6 | newreno << 7
    return bytes([dt << 4 | 6, b])


def accept(dt=DT0):
    return bytes([dt << 4 | 7])


def send(slot=0, k=4, dt=DT0):          # k*k*64 bytes
    return bytes([dt << 4 | 8, (k << 3 | slot) & 0xff])


def recv(slot=0, kb=1, peek=False, dt=DT0):
    return bytes([dt << 4 | 9, slot | (kb & 15) << 3 | peek << 7])


def shutdown(slot=0, how=1, dt=DT0):
    return bytes([dt << 4 | 10, slot | how << 3])


def close(slot=0, linger0=False, dt=DT0):
    return bytes([dt << 4 | 11, slot | linger0 << 3])


def abort(slot=0, dt=DT0):
    return bytes([dt << 4 | 12, slot])


SB_ALL = 0x3f        # SACK-permitted, window scale 7, timestamps


def tcp_conn():
    t = 'tcp_conn'
    passive_open = seg(flags=SYN, opts=(SB_ALL, 1460)) + echo() + accept()
    write(t, 'passive-handshake-data-close',
          cfg() + passive_open + seg(dlen=500, opts='auto') + recv(kb=1) + send(k=4) +
          echo(dt=DT1MS) + close() + echo(fin=True) + accept(dt=DT60S))
    write(t, 'passive-no-options-peer-closes',
          cfg() + seg(flags=SYN, opts=(0, 536)) + echo() + accept() + seg(dlen=300) +
          echo(fin=True) + recv(kb=2) + recv() + send(k=2) + echo(dt=DT1MS) + close() +
          echo(dt=DT1MS))
    active_open = connect() + echo_synack(mss64=14)
    write(t, 'active-open-sack-fast-retransmit',
          cfg() + active_open + send(k=8) +
          seg(lkind=1, ackmode=3, ack=0, sack=[(1420, 1420)], opts='auto', dt=DT1MS) +
          seg(lkind=1, ackmode=3, ack=0, sack=[(1420, 1420), (4260, 100)], opts='auto') +
          seg(lkind=1, ackmode=3, ack=0, sack=[(1420, 2000)], opts='auto') +
          echo(lkind=1, dt=DT20MS) + shutdown(how=1) + echo(lkind=1, fin=True, dt=DT1MS) +
          accept(dt=DT60S))
    write(t, 'active-open-rto-retransmit',
          cfg(c0=0x20) + active_open + send(k=6) + accept(dt=DT1S) + accept(dt=DT3S) +
          echo(lkind=1) + close() + echo(lkind=1, fin=True))
    write(t, 'out-of-order-reassembly',
          cfg() + passive_open +
          seg(seqmode=1, seq=1000, dlen=500, opts='auto') +
          seg(seqmode=1, seq=3000, dlen=500, opts='auto') +
          seg(seqmode=1, seq=2000, dlen=1000, opts='auto') +
          seg(seqmode=0, seq=0, dlen=1000, opts='auto') + recv(kb=4) + recv(kb=1, peek=True) +
          close())
    write(t, 'rst-challenge-ack-syn-in-established',
          cfg() + passive_open + seg(flags=RST, seqmode=0, seq=10) +
          seg(flags=SYN, seqmode=0, seq=5, opts=(SB_ALL, 1460)) +
          seg(flags=RST | ACK, seqmode=0, seq=0) + recv() + close())
    write(t, 'zero-window-persist',
          cfg(c0=0x40) + active_open +
          seg(lkind=1, ackmode=0, ack=0, wnd=0, opts='auto') + send(k=4) +
          accept(dt=DT1S) + accept(dt=DT3S) + accept(dt=DT10S) +
          seg(lkind=1, ackmode=0, ack=0, wnd=0xff, opts='auto') + echo(lkind=1, dt=DT1MS) +
          close(linger0=True))
    write(t, 'syn-to-closed-port-and-time-wait',
          cfg(c7=5) + seg(lkind=2, flags=SYN, opts=(SB_ALL, 1460)) +
          seg(lkind=2, flags=ACK, seqmode=2, seq=12345, ackmode=2, ack=999) +
          passive_open + close() + echo(fin=True) + accept(dt=DT1S) +
          seg(flags=SYN, seqmode=1, seq=5000, opts=(SB_ALL, 1460)) + echo() + accept() +
          abort())
    write(t, 'small-mtu-keepalive-newreno',
          cfg(c0=0x01 | 0x20 | 0x40) + connect(nodelay=True, keep=True, newreno=True) +
          echo_synack(mss64=31) + send(k=10) + echo(lkind=1, dt=DT5MS) +
          accept(dt=DT3S) + accept(dt=DT3S) + echo(lkind=1) + accept(dt=DT10S) +
          close())
    write(t, 'bad-checksum-and-raw-options',
          cfg() + seg(flags=SYN, opts=(SB_ALL, 1460), bad=True) +
          seg(flags=SYN, raw=[2, 4, 5, 0xb4, 1, 3, 3, 20, 4, 2, 0, 0]) + echo() + accept() +
          seg(flags=ACK, dlen=10, raw=[5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1]) + close())


# --- xdp (and ip_udp: Ethernet + IPv4 frames) ---------------------------------------------
def ip4(a):
    return bytes(int(x) for x in a.split('.'))


def ip6(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('>%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def eth(proto, payload, dst=b'\x02\0\0\0\0\x02', src=b'\x02\0\0\0\0\x01', vlan=None):
    h = dst + src
    if vlan is not None:
        h += u16(0x8100) + u16(vlan)
    return h + u16(proto) + payload


def ipv4(src, dst, proto, payload, frag=0, ident=1, opts=b''):
    hl = 20 + len(opts)
    h = bytes([0x40 | hl // 4, 0]) + u16(hl + len(payload)) + u16(ident) + u16(frag) + \
        bytes([64, proto]) + u16(0) + ip4(src) + ip4(dst) + opts
    h = h[:10] + u16(csum(h)) + h[12:]
    return h + payload


def ipv6(src, dst, nh, payload):
    return bytes([0x60, 0, 0, 0]) + u16(len(payload)) + bytes([nh, 64]) + ip6(src) + ip6(dst) + payload


def tcp(sport, dport, flags=SYN, seq=1, ack=0, doff=5, data=b'', src='10.0.0.2', dst='10.0.0.1'):
    h = u16(sport) + u16(dport) + u32(seq) + u32(ack) + bytes([doff << 4, flags]) + u16(65535) + \
        u16(0) + u16(0) + bytes(4 * max(doff - 5, 0))
    pseudo = ip4(src) + ip4(dst) + bytes([0, 6]) + u16(len(h) + len(data))
    c = csum(pseudo + h + data)
    return h[:16] + u16(c) + h[18:] + data


def udp(sport, dport, data=b'', length=None, src='10.0.0.2', dst='10.0.0.1', zero_csum=False):
    ln = 8 + len(data) if length is None else length
    h = u16(sport) + u16(dport) + u16(ln) + u16(0)
    if not zero_csum:
        pseudo = ip4(src) + ip4(dst) + bytes([0, 17]) + u16(8 + len(data))
        c = csum(pseudo + h + data) or 0xffff
        h = h[:6] + u16(c)
    return h + data


def xframe(f, queue=0, extra16=0):
    return bytes([queue | extra16 << 1]) + u16(len(f)) + f


def xdp():
    t = 'xdp'
    syn80 = eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 6, tcp(40000, 80)))
    write(t, 'v4-syn-listener-steered-and-no-socket', b'\0' + xframe(syn80) + xframe(syn80, queue=1))
    write(t, 'v4-bound-not-listening-and-conn-vlan',
          b'\0' + xframe(eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 6, tcp(40000, 81)))) +
          xframe(eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 6, tcp(80, 40000, flags=ACK)), vlan=5)))
    write(t, 'v4-udp-wildcard-and-bad-length',
          b'\0' + xframe(eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 17, udp(5000, 53, b'query')))) +
          xframe(eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 17, udp(5000, 53, b'query', length=99)))) +
          xframe(eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 17, udp(9999, 41000, b'conn')))))
    write(t, 'v4-fragments-of-owned-flow',
          b'\0' + xframe(eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 17, udp(5000, 53, b'x' * 64), frag=0x2000, ident=7))) +
          xframe(eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 17, b'y' * 64, frag=0x0009, ident=7))) +
          xframe(eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 17, b'z' * 64, frag=0x0009, ident=8))))
    write(t, 'v4-tcp-bad-doff-options-truncated',
          b'\0' + xframe(eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 6, tcp(40000, 80, doff=4)))) +
          xframe(eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 6, tcp(40000, 8080, doff=7), opts=b'\x01' * 4))) +
          xframe(syn80[:30]) + xframe(eth(0x0806, bytes(28))))
    hop = bytes([60, 0, 1, 4, 0, 0, 0, 0])         # next: destination options, PadN
    dst = bytes([6, 0, 1, 4, 0, 0, 0, 0])          # next: TCP
    tcp6 = tcp(40000, 443)
    write(t, 'v6-ext-headers-steered',
          b'\1' + xframe(eth(0x86dd, ipv6('2001:db8::2', '2001:db8::1', 0, hop + dst + tcp6))) +
          xframe(eth(0x86dd, ipv6('2001:db8::2', '2001:db8::1', 6, tcp(80, 40001, flags=ACK)))) +
          xframe(eth(0x86dd, ipv6('2001:db8::2', '2001:db8::1', 0, hop + dst + tcp6))[:70]))
    fh1 = bytes([17, 0, 0, 1, 0, 0, 0, 9])         # offset 0, M: first fragment, id 9
    fh2 = bytes([17, 0, 0, 0x10, 0, 0, 0, 9])      # offset 2 (x8), last
    write(t, 'v6-udp-fragments-and-ipv6-off',
          b'\1' + xframe(eth(0x86dd, ipv6('2001:db8::2', '2001:db8::1', 44, fh1 + udp(5000, 5353, b'a' * 16)))) +
          xframe(eth(0x86dd, ipv6('2001:db8::2', '2001:db8::1', 44, fh2 + b'b' * 16))))
    write(t, 'v6-off-passes',
          b'\0' + xframe(eth(0x86dd, ipv6('2001:db8::2', '2001:db8::1', 6, tcp6))))
    big = eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 6, tcp(40000, 80, flags=ACK, data=b'd' * 3000)))
    write(t, 'v4-multibuffer-frame', b'\0' + xframe(big[:1500], extra16=(len(big) - 1500 + 15) // 16))
    # ephemeral ports hxs holds (the harness's table: 50000 on 10.0.0.1, 50001 on 2001:db8::1,
    # 50002 on the peer's address): a SYN,ACK and an ACK steered, one on another address
    # passed, UDP to a held TCP port passed
    write(t, 'eph-ports-v4-v6',
          b'\1' + xframe(eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 6, tcp(80, 50000, flags=SYN | ACK)))) +
          xframe(eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 6, tcp(80, 50002, flags=ACK)))) +
          xframe(eth(0x86dd, ipv6('2001:db8::2', '2001:db8::1', 6, tcp(80, 50001, flags=ACK)))) +
          xframe(eth(0x0800, ipv4('10.0.0.2', '10.0.0.1', 17, udp(80, 50000, b'u')))))


# --- ip_udp -------------------------------------------------------------------------------
def uframe(fix, f, dt=0):
    return bytes([dt << 3 | 0, fix]) + u16(len(f)) + f


def urecv(which=0, cap200=4, peek=False, trunc=False, dt=0):
    return bytes([dt << 3 | 2, which | cap200 << 2 | peek << 5 | trunc << 6])


def usend(dst=0, connected=False, k=4, dt=0):     # 4 + 2*k*k bytes
    return bytes([dt << 3 | 3, dst | connected << 2 | k << 3])


def uneigh(gateway=False, failed=False, dt=0):
    return bytes([dt << 3 | 4, gateway | failed << 1])


def utake(n=8, dt=0):
    return bytes([dt << 3 | 5, n - 1])


def uaccept(slot=0, dt=0):
    return bytes([dt << 3 | 6, slot])


def upeer(data50=0, fin=False, dt=0):
    return bytes([dt << 3 | 7, 1 | fin << 1 | data50 << 2])


def ip_udp():
    t = 'ip_udp'
    US, PEER = '10.0.0.2', '10.0.0.1'

    def dg(sport, dport, data, src=PEER, dst=US, **kw):
        return eth(0x0800, ipv4(src, dst, 17, udp(sport, dport, data, src=src, dst=dst, **kw)))
    write(t, 'udp-to-bound-and-connected',
          b'\x40' + uframe(0, dg(5000, 7000, b'hello')) + urecv() +
          uframe(0, dg(5000, 7001, b'to B')) + uframe(0, dg(5001, 7001, b'wrong source')) +
          urecv(which=1) + urecv(which=1) + urecv(peek=True))
    write(t, 'udp-broadcast-zero-csum-trunc',
          b'\x40' + uframe(0, eth(0x0800, ipv4(PEER, '255.255.255.255', 17,
                                                udp(5000, 7000, b'bcast', src=PEER, dst='255.255.255.255')),
                                 dst=b'\xff' * 6)) +
          uframe(0, dg(5000, 7000, b'no checksum', zero_csum=True)) +
          uframe(0, dg(5000, 7000, b'x' * 500)) + urecv() + urecv() +
          urecv(cap200=1, trunc=True) + urecv(cap200=0))
    write(t, 'ip-bad-checksum-fragment-options-fixups',
          b'\x00' + uframe(0, dg(5000, 7000, b'bad')[:24] + b'\0\0' + dg(5000, 7000, b'bad')[26:]) +
          uframe(0, eth(0x0800, ipv4(PEER, US, 17, udp(5000, 7000, b'frag'), frag=0x2000))) +
          uframe(0, eth(0x0800, ipv4(PEER, US, 17, udp(5000, 7000, b'opts'), opts=b'\x01\x01\x01\x00'))) +
          uframe(0x3f, bytes(14) + bytes([0x45, 0]) + bytes(6) + bytes([64, 17]) + bytes(2) + ip4(PEER) + bytes(4) +
                 u16(5000) + u16(7000) + bytes(4) + b'fixed up') +
          urecv() + urecv() + urecv())
    write(t, 'udp-full-queue',
          b'\x00' + b''.join(uframe(0, dg(5000, 7000, bytes([i]) * 300)) for i in range(8)) +
          urecv() + urecv() + urecv())
    write(t, 'send-known-pending-resolved-failed',
          b'\x40' + usend(dst=0) + usend(connected=True) + utake() +
          usend(dst=1) + uneigh() + utake() + usend(dst=2, k=10) + uneigh(gateway=True, failed=True) +
          urecv() + usend(dst=1, dt=0) + urecv(dt=15) + usend(dst=0, k=31) + utake())
    syn = eth(0x0800, ipv4(PEER, US, 6, tcp(40000, 80, src=PEER, dst=US)))
    write(t, 'tcp-listener-accept-data',
          b'\x40' + uframe(0, syn) + utake() + upeer() + uaccept() + upeer(data50=4) +
          urecv(which=2) + upeer(fin=True) + utake() + uaccept() + utake(dt=19))


# --- netif_msg -----------------------------------------------------------------------------
def nlmsg(typ, fam, attrs):
    body = fam
    for t, v in attrs:
        a = struct.pack('<HH', 4 + len(v), t) + v
        body += a + bytes((4 - len(a) % 4) % 4)
    return struct.pack('<IHHII', 16 + len(body), typ, 0, 1, 0) + body


def netif_msg():
    t = 'netif_msg'
    RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWNEIGH = 16, 20, 24, 28
    le32 = lambda v: struct.pack('<I', v)
    route = nlmsg(RTM_NEWROUTE, bytes([2, 32, 0, 0, 254, 0, 0, 1]) + le32(0),
                  [(1, ip4('10.0.0.1')), (5, ip4('10.0.0.254')), (4, le32(3)), (7, ip4('10.0.0.2'))])
    neigh = nlmsg(RTM_NEWNEIGH, struct.pack('<BBHiHBB', 2, 0, 0, 3, 2, 0, 1),
                  [(1, ip4('10.0.0.1')), (2, b'\x02\0\0\0\0\x01')])
    addr = nlmsg(RTM_NEWADDR, struct.pack('<BBBBI', 2, 24, 0, 0, 3),
                 [(2, ip4('10.0.0.2')), (1, ip4('10.0.0.2'))])
    link = nlmsg(RTM_NEWLINK, struct.pack('<BBHiII', 0, 0, 1, 3, 0x1043, 0),
                 [(3, b'veth0\0'), (4, le32(1500)), (1, b'\x02\0\0\0\0\x02')])
    write(t, 'route-reply', route)
    write(t, 'neigh-reachable', neigh)
    write(t, 'addr-dump-part', addr + addr)
    write(t, 'link-with-name-mtu-mac', link)
    write(t, 'all-four-in-one-buffer', route + neigh + addr + link)


# --- http ------------------------------------------------------------------------------------
def http():
    t = 'http'
    write(t, 'get-keepalive', b'\x80GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n')
    write(t, 'head-absolute-form-query', b'\x40HEAD http://a/b%20c?x=1 HTTP/1.1\r\nHost: a\r\n\r\n')
    write(t, 'post-content-length-pipelined',
          b'\x80POST /up HTTP/1.0\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhelloGET / HTTP/1.1\r\n')
    write(t, 'bad-version-obs-fold', b'\x10GET / HTTP/2.0\r\n\r\n')
    write(t, 'two-hosts-chunked', b'\x10\r\nGET /%41%2f HTTP/1.1\nHost: a\nHost: b\nTransfer-Encoding: chunked\n\n')


# --- sock_api -------------------------------------------------------------------------------
def s_op(op, x=0, dt=0):
    return bytes([dt << 4 | op, x])


def s_wire(from_b=False, n=16, acts=None, dt=0):
    acts = acts if acts is not None else [0] * n
    return s_op(10, (from_b & 1) | ((n - 1) & 15) << 1, dt) + bytes(acts)


def s_pump(rounds=4):
    return b''.join(s_wire(False) + s_wire(True) for _ in range(rounds))


def sock_api():
    t = 'sock_api'
    SEND, RECV, SHUT, CLOSE, STATUS, EPOLL, TURN = 2, 4, 6, 7, 8, 9, 15
    B = 0x80
    open_ = s_op(0, 0) + s_pump(2) + s_op(1, 0)
    write(t, 'connect-accept-both-ways',
          b'\x00' + open_ + s_op(SEND, 4 << 3) + s_op(SEND, B | 8 << 3) + s_pump(4) +
          s_op(RECV, 15 << 3) + s_op(RECV, B | 15 << 3) + s_op(STATUS, 0) + s_op(EPOLL, B))
    write(t, 'loss-dup-reorder-corrupt',
          b'\x00' + open_ + s_op(SEND, 15 << 3) +
          s_wire(False, 8, [0, 3, 0, 4, 5, 0, 0x0e, 0]) + s_wire(True) + s_op(13, 0) +
          s_pump(2) + s_op(TURN, 0, dt=9) + s_pump(4) + s_op(RECV, B | 15 << 3))
    write(t, 'small-buffers-mtu-mismatch-close',
          bytes([0x01 | 0x00 << 2 | 0x10]) + s_op(0, 0x06) + s_pump(2) + s_op(1, 1) +
          s_op(SEND, 15 << 3) + s_pump(3) + s_op(RECV, B | 1 << 3) + s_pump(3) +
          s_op(SHUT, 1 << 3) + s_pump(2) + s_op(RECV, B | 15 << 3) + s_op(CLOSE, B) + s_pump(2))
    write(t, 'linger-zero-reset-and-reconnect',
          b'\x00' + s_op(0, 0x08) + s_pump(2) + s_op(1, 0) + s_op(SEND, B | 6 << 3) + s_pump(1) +
          s_op(CLOSE, 0) + s_pump(2) + s_op(RECV, B) + s_op(STATUS, B) + s_op(0, 0) + s_pump(2) +
          s_op(1, 0) + s_op(SEND, 3 << 3) + s_pump(2))


if __name__ == '__main__':
    sock_api()
    tcp_conn()
    xdp()
    ip_udp()
    netif_msg()
    http()
