#!/usr/bin/python3
"""Scan-lab listener: the ground truth of the lab's target namespace.

Run by tests/lab/lab.sh inside NAME-tgt (never by hand outside a namespace).

  listener.py --tcp SPEC --udp SPEC --ready FILE --pidfile FILE

SPEC is a comma list of ports and ranges (1,22,80,1000-1010,65535); empty means
none. For every TCP port it listens on the dual-stack wildcard address (so on
every IPv4 and IPv6 address of the namespace) and accepts and closes each
connection at once; for every UDP port it echoes each datagram back from the address it was
sent to (IP_PKTINFO / IPV6_PKTINFO, so the extra target addresses answer
correctly). UDP port 53 answers DNS-shaped queries with a DNS-shaped REFUSED
reply (header copied, QR set); anything else is echoed.

The sockets are shared among forked worker processes, each inside the fd limit
(which may not be raisable), so even 1-65535 can be open; the parent supervises
them, and if a worker dies the listener stops (a loud failure, not a silently
wrong ground truth). Once every worker has bound its sockets the parent writes its pid to --pidfile and then "READY <pid>"
to --ready (atomically, via rename), and runs until SIGTERM/SIGINT.
Python standard library only (selectors over epoll).
"""
import argparse
import errno
import os
import resource
import selectors
import signal
import socket
import struct
import sys

# Linux values; older Pythons lack some of these names.
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)
ANC_SPACE = socket.CMSG_SPACE(64)


def parse_ports(spec):
    ports = set()
    if not spec:
        return ports
    for tok in spec.split(","):
        if "-" in tok:
            lo, hi = tok.split("-", 1)
            lo, hi = int(lo), int(hi)
        else:
            lo = hi = int(tok)
        if not (1 <= lo <= hi <= 65535):
            raise ValueError("bad port token %r" % tok)
        ports.update(range(lo, hi + 1))
    return ports


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    try:
        with open("/proc/sys/fs/nr_open") as f:
            cap = int(f.read())
    except OSError:
        cap = 1048576
    want = min(max(need, soft), cap)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


def tcp_listener(port, backlog):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(backlog)
    s.setblocking(False)
    return s


def udp_socket(family, port):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
        s.bind(("::", port))
    else:
        s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        s.bind(("0.0.0.0", port))
    s.setblocking(False)
    return s


def dns_reply(data):
    """A minimal DNS answer: same id and question, QR=1, RCODE=REFUSED."""
    if len(data) < 12 or data[2] & 0x80:  # too short, or already a response
        return data
    opcode_rd = data[2] & 0x79  # opcode bits and RD
    flags = bytes([0x80 | opcode_rd, 0x05])  # QR, REFUSED
    # Keep the header counts for the question only (answers/authority/additional 0).
    return data[:2] + flags + data[4:6] + b"\0\0\0\0\0\0" + data[12:]


def bind_all(tcp_ports, udp_ports, backlog):
    sel = selectors.DefaultSelector()
    socks = []
    for port in tcp_ports:
        s = tcp_listener(port, backlog)  # dual-stack: IPv4 and IPv6 on one socket
        socks.append(s)
        sel.register(s, selectors.EVENT_READ, ("tcp", port))
    for port in udp_ports:
        for fam in (socket.AF_INET, socket.AF_INET6):
            s = udp_socket(fam, port)
            socks.append(s)
            sel.register(s, selectors.EVENT_READ, ("udp", port))
    return sel, socks


def on_signal(*_):
    raise Stop()


def worker(tcp_ports, udp_ports, backlog, ready_w):
    """Child: bind a share of the ports, report b"1" (or b"0"), serve until SIGTERM."""
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        sel, socks = bind_all(tcp_ports, udp_ports, backlog)
    except Exception as e:  # noqa: BLE001 - reported to the log, then fail
        sys.stderr.write("listener worker %d: %s\n" % (os.getpid(), e))
        os.write(ready_w, b"0")
        os._exit(1)
    os.write(ready_w, b"1")
    os.close(ready_w)
    try:
        serve(sel)
    except Stop:
        pass
    os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcp", default="")
    ap.add_argument("--udp", default="")
    ap.add_argument("--ready", required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--backlog", type=int, default=4096)
    a = ap.parse_args()

    tcp_ports = sorted(parse_ports(a.tcp))
    udp_ports = sorted(parse_ports(a.udp))
    # One socket per TCP port (dual-stack), two per UDP port (pktinfo per family).
    # The hard fd limit may not be raisable (no CAP_SYS_RESOURCE), so the ports
    # are shared among worker processes that each stay well inside the limit.
    raise_nofile(len(tcp_ports) + 2 * len(udp_ports) + 4096)
    budget = max(256, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 2048)
    items = [("tcp", p) for p in tcp_ports] + [("udp", p) for p in udp_ports]
    chunks, cur, used = [], [], 0
    for kind, p in items:
        cost = 1 if kind == "tcp" else 2
        if cur and used + cost > budget:
            chunks.append(cur); cur, used = [], 0
        cur.append((kind, p)); used += cost
    chunks.append(cur)

    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    ready_r, ready_w = os.pipe()
    children = []
    for chunk in chunks:
        pid = os.fork()
        if pid == 0:
            os.close(ready_r)
            worker([p for k, p in chunk if k == "tcp"], [p for k, p in chunk if k == "udp"], a.backlog, ready_w)
        children.append(pid)
    os.close(ready_w)
    status = b""
    while True:
        b = os.read(ready_r, 64)
        if not b:
            break
        status += b
    os.close(ready_r)

    def stop_children(*_):
        for c in children:
            try:
                os.kill(c, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for c in children:
            try:
                os.waitpid(c, 0)
            except ChildProcessError:
                pass

    if status != b"1" * len(chunks):
        sys.stderr.write("listener: %d of %d workers failed to bind\n" % (len(chunks) - status.count(b"1"), len(chunks)))
        stop_children()
        return 1

    pid = os.getpid()
    for path, text in ((a.pidfile, "%d\n" % pid),
                       (a.ready, "READY %d tcp=%d udp=%d workers=%d\n" % (pid, len(tcp_ports), len(udp_ports), len(chunks)))):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, path)
    sys.stdout.write("READY %d workers=%d\n" % (pid, len(chunks)))
    sys.stdout.flush()

    # Supervise: SIGTERM stops the workers; a worker that dies takes the lab down
    # with it (loudly) rather than leaving a silently wrong ground truth.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        pid, st = os.wait()
        sys.stderr.write("listener: worker %d exited (status %d); stopping\n" % (pid, st))
        children.remove(pid)
        stop_children()
        return 1
    except Stop:
        stop_children()
        return 0


class Stop(Exception):
    pass


def serve(sel):
    counts = {"accepted": 0, "udp": 0}
    while True:
        try:
            events = sel.select(1.0)
        except InterruptedError:
            continue
        for key, _ in events:
            s = key.fileobj
            kind, port = key.data
            if kind == "tcp":
                # Drain the accept queue: bursts of thousands of connects.
                for _ in range(1024):
                    try:
                        c, _ = s.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError as e:
                        if e.errno in (errno.ECONNABORTED, errno.EPROTO):
                            continue
                        if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                            break
                        raise
                    c.close()
                    counts["accepted"] += 1
            else:
                for _ in range(256):
                    try:
                        data, anc, _flags, addr = s.recvmsg(65535, ANC_SPACE)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break  # e.g. a queued ICMP error: nothing to answer
                    counts["udp"] += 1
                    out_anc = []
                    for level, typ, val in anc:
                        if level == socket.IPPROTO_IP and typ == IP_PKTINFO and len(val) >= 12:
                            # struct in_pktinfo { int ifindex; in_addr spec_dst; in_addr addr; }
                            dst = val[8:12]
                            out_anc.append((socket.IPPROTO_IP, IP_PKTINFO, struct.pack("i4s4s", 0, dst, b"\0" * 4)))
                        elif level == socket.IPPROTO_IPV6 and typ == IPV6_PKTINFO and len(val) >= 20:
                            # struct in6_pktinfo { in6_addr addr; int ifindex; }
                            out_anc.append((socket.IPPROTO_IPV6, IPV6_PKTINFO, val[:16] + struct.pack("i", 0)))
                    reply = dns_reply(data) if port == 53 else data
                    try:
                        s.sendmsg([reply], out_anc, 0, addr)
                    except OSError:
                        pass  # dropped by the lab's nft rules, full buffer, ...


if __name__ == "__main__":
    sys.exit(main())
