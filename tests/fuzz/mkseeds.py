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


if __name__ == '__main__':
    tcp_conn()
