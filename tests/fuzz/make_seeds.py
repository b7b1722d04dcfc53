#!/usr/bin/env python3
"""Write the seed corpus of every fuzz target into tests/fuzz/corpus/<name>/.

Seeds come from the spec's vectors (../shared/spec/btest-protocol.md §3.2, §4,
§12, §19.1, §19.4) plus a few edge cases. The files are committed; rerun this
only to change the seeds. It never deletes files, so crash inputs a fuzzer found
(saved next to the seeds as crash-<sha1>) stay.
"""
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"


def h(text):
    return bytes.fromhex(text.replace(" ", ""))


def write(target, name, data):
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def status(seq, cpu, nbytes):
    return bytes([0x07, 0x80 | min(cpu, 100), 0, 0]) + struct.pack("<II", seq, min(nbytes, 0xFFFFFFFF))


# --- command: 16-byte commands, 4-byte replies, 48-byte MD5 responses, 12-byte status
COMMANDS = {
    "tcp_transmit": "01 01 01 00 00 80 00 00 00 00 00 00 00 00 00 00",
    "tcp_transmit_random": "01 01 00 00 00 80 00 00 00 00 00 00 00 00 00 00",
    "udp_transmit_1500": "00 01 01 00 dc 05 00 00 00 00 00 00 00 00 00 00",
    "tcp_receive": "01 02 01 00 00 80 00 00 00 00 00 00 00 00 00 00",
    "udp_receive_2000": "00 02 01 00 d0 07 00 00 00 00 00 00 00 00 00 00",
    "udp_receive_64000": "00 02 01 00 00 fa 00 00 00 00 00 00 00 00 00 00",
    "tcp_receive_remote1": "01 02 01 00 00 80 00 00 01 00 00 00 00 00 00 00",
    "tcp_receive_localmax": "01 02 01 00 00 80 00 00 00 00 00 00 ff ff ff ff",
    "tcp_receive_conn10": "01 02 01 0a 00 80 00 00 00 00 00 00 00 00 00 00",
    "tcp_both_conn20": "01 03 01 14 00 80 00 00 00 00 00 00 00 00 00 00",
    "udp_both_300bps": "00 03 01 00 e8 03 00 00 2c 01 00 00 2c 01 00 00",
    "udp_receive_100M": "00 02 01 00 dc 05 00 00 00 e1 f5 05 00 00 00 00",
    "udp_transmit_50M": "00 01 01 00 dc 05 00 00 00 00 00 00 80 f0 fa 02",
    "bad_proto": "02 01 01 00 00 80 00 00 00 00 00 00 00 00 00 00",
    "bad_direction": "01 04 01 00 00 80 00 00 00 00 00 00 00 00 00 00",
}
for name, wire in COMMANDS.items():
    write("command", "cmd_" + name, h(wire))
for name, wire in {"ok": "01000000", "ok_token": "01bc0400", "md5": "02000000", "ecsrp5": "03000000",
                   "auth_failed": "00000000", "garbage": "07850000"}.items():
    write("command", "reply_" + name, h(wire))
MD5 = {
    "m1": "3c968565bc0314f281a6da1571cf7255 74657374" + "00" * 28,
    "m2": "9a93c18b7a1ef40299d1b61f80a4b592 61646d696e" + "00" * 27,
    "m3": "d1096c73e4bec6f9dd017fb2a10b1b54 61646d696e" + "00" * 27,
    "m4": "5435758bd1cce1f12d84b3d606fbcabe 7465737475736572" + "00" * 24,
    "long_user": "00" * 16 + "75" * 32,
}
for name, wire in MD5.items():
    write("command", "md5_" + name, h(wire))
write("command", "status_seq1", h("07 85 00 00 01 00 00 00 dc 10 13 00"))
write("command", "status_seq300", h("07 91 00 00 2c 01 00 00 40 59 73 07"))
write("command", "status_cpu_unknown", h("07 00 00 00 02 00 00 00 00 00 00 00"))

# --- status_scanner: [mode][n_sizes][sizes...][stream]
INTERLEAVED, ALIGNED = 0, 1


def scanner_seed(mode, sizes, stream):
    return bytes([mode, len(sizes)]) + bytes(sizes) + stream


recs = [status(1, 5, 1249500), status(300, 17, 125000000), status(0x8507, 0, 0x07000000), status(2, 100, 0xe407)]
mixed = bytes(40) + recs[0] + bytes(13) + recs[1] + recs[2] + bytes(1) + recs[3] + bytes(11)
write("status_scanner", "interleaved_whole", scanner_seed(INTERLEAVED, [], mixed))
write("status_scanner", "interleaved_bytewise", scanner_seed(INTERLEAVED, [1], mixed))
write("status_scanner", "interleaved_odd_reads", scanner_seed(INTERLEAVED, [5, 7, 0, 13], mixed))
aligned = b"".join(recs)
write("status_scanner", "aligned_whole", scanner_seed(ALIGNED, [], aligned))
write("status_scanner", "aligned_reads_11", scanner_seed(ALIGNED, [11], aligned))
write("status_scanner", "aligned_fallback", scanner_seed(ALIGNED, [3, 12], recs[0] + bytes(5) + recs[1] + recs[2]))
write("status_scanner", "implausible_headers",
      scanner_seed(INTERLEAVED, [4], h("07 00 00 00") + h("07 e5 00 00") + h("07 85 01 00") + bytes(12) + recs[0]))

# --- units: CLI text
UNITS = ["500K", "100M", "1.5G", "0", "100Mbps", "100m/s", " 2T ", "10X", "-5M", "", "99999999999999999999",
         "1e5", "18446744073709551615", "2.5", "500ms", "5m", "1h", "10s", "0.001", "5min"]
for i, text in enumerate(UNITS):
    write("units", f"u{i:02d}", text.encode())

# --- address: parse_ip and split_host_port text
ADDRESSES = ["192.0.2.1", "::1", "[::1]", "[::1]:55", "h:514", "h", "::ffff:192.0.2.7", "2001:db8::1",
             "h:0", "h:99999", "h:x", "[::1", "[2001:db8::1]:2000", "10.0.0.1:65535", ""]
for i, text in enumerate(ADDRESSES):
    write("address", f"a{i:02d}", text.encode())

# --- proc_stat: /proc/stat heads
write("proc_stat", "linux6", b"cpu  4705 356 584 3699176 23060 0 277 10 20 30\n"
      b"cpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0\nintr 114930548 113199788 3 0 5\n")
write("proc_stat", "four_fields", b"cpu 10 20 30 40")
write("proc_stat", "malformed", b"cpu 1 2 x 4\n")
write("proc_stat", "overflow", b"cpu 18446744073709551615 1 0 0\n")

# --- discovery_reply: IP packets answering host-discovery probes (scan/discovery_probe.hpp),
# plus ARP frames (the target feeds every input to the ARP parsers too).


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, proto, payload, opts=b""):
    hl = 20 + len(opts)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, hl + len(payload), 0x1234, 0, 57, proto, 0, src, dst) + opts
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def icmp4(typ, rest):
    msg = bytes([typ, 0, 0, 0]) + rest
    return msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]


def ip6(src, dst, nxt, payload, hop=64):
    return struct.pack("!IHBB", 0x60000000, len(payload), nxt, hop) + src + dst + payload


def icmp6(src, dst, typ, rest):
    msg = bytes([typ, 0, 0, 0]) + rest
    pseudo = src + dst + struct.pack("!I3xB", len(msg), 58)
    return msg[:2] + struct.pack("!H", csum(pseudo + msg)) + msg[4:]


def tcp(sport, dport, seq, ack, flags):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 0, 0, 0)


A4, B4 = bytes([192, 0, 2, 7]), bytes([10, 0, 0, 1])
A6 = bytes.fromhex("fd130000000000000000000000000007")
B6 = bytes.fromhex("fd130000000000000000000000000001")
LL6 = bytes.fromhex("fe80000000000000021122fffe334455")
MAC = bytes.fromhex("021122334455")
echo = icmp4(0, struct.pack("!HH", 0xBEEF, 0x1234))
write("discovery_reply", "v4_echo_reply", ip4(A4, B4, 1, echo))
write("discovery_reply", "v4_echo_reply_padded", ip4(A4, B4, 1, echo) + bytes(18))
write("discovery_reply", "v4_echo_reply_ipopts", ip4(A4, B4, 1, echo, b"\x01" * 8))
write("discovery_reply", "v4_echo_reply_data", ip4(A4, B4, 1, icmp4(0, struct.pack("!HH", 1, 2) + b"abcde")))
write("discovery_reply", "v4_timestamp_reply",
      ip4(A4, B4, 1, icmp4(14, struct.pack("!HHIII", 0xBEEF, 0x1234, 1000, 2000, 2001))))
write("discovery_reply", "v4_unreachable",
      ip4(A4, B4, 1, icmp4(3, bytes(4) + ip4(B4, A4, 1, icmp4(8, bytes(4))))))
bad = bytearray(ip4(A4, B4, 1, echo))
bad[22] ^= 0x40
write("discovery_reply", "v4_echo_bad_icmp_csum", bytes(bad))
write("discovery_reply", "v4_echo_truncated", ip4(A4, B4, 1, echo)[:26])
write("discovery_reply", "v4_tcp_rst", ip4(A4, B4, 6, tcp(80, 40000, 0xA1B2C3D4, 0, 0x04)))
write("discovery_reply", "v4_tcp_synack", ip4(A4, B4, 6, tcp(443, 40000, 7, 0xA1B2C3D5, 0x12)))
write("discovery_reply", "v6_echo_reply", ip6(A6, B6, 58, icmp6(A6, B6, 129, struct.pack("!HH", 0xBEEF, 0x1234))))
write("discovery_reply", "v6_tcp_rst_ack", ip6(A6, B6, 6, tcp(22, 40000, 0, 0x01020304, 0x14)))
na_tlla = icmp6(A6, B6, 136, bytes([0x60, 0, 0, 0]) + A6 + bytes([2, 1]) + MAC)
write("discovery_reply", "v6_na_tlla", ip6(A6, B6, 58, na_tlla, hop=255))
write("discovery_reply", "v6_na_hop64", ip6(A6, B6, 58, na_tlla, hop=64))
write("discovery_reply", "v6_na_no_options",
      ip6(LL6, B6, 58, icmp6(LL6, B6, 136, bytes([0x40, 0, 0, 0]) + A6), hop=255))
na_zero = icmp6(A6, B6, 136, bytes([0x60, 0, 0, 0]) + A6 + bytes([2, 0]) + MAC)
write("discovery_reply", "v6_na_zero_len_option", ip6(A6, B6, 58, na_zero, hop=255))
arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + MAC + A4 + bytes.fromhex("02aabbccddee") + B4
eth = bytes.fromhex("02aabbccddee") + MAC
write("discovery_reply", "arp_reply_frame", eth + b"\x08\x06" + arp + bytes(18))
write("discovery_reply", "arp_reply_vlan", eth + b"\x81\x00\x00\x05\x08\x06" + arp)
write("discovery_reply", "arp_reply_bare", arp)

# --- syn_reply, udp_probe: captured IP packets (scan/syn_probe.hpp parse_reply,
# scan/udp_probe.hpp parse_scan_event). Built here from the RFC layouts with
# correct IPv4 header checksums and TCP/UDP checksums (which the parsers do not
# verify); ICMP errors quote real probes as the templates build them.
R_US4, R_HOST4, R_ROUTER4 = bytes([192, 0, 2, 1]), bytes([198, 51, 100, 7]), bytes([203, 0, 113, 10])
R_US6 = bytes.fromhex("20010db8000000000000000000000001")
R_HOST6 = bytes.fromhex("20010db8000000000000000000000007")
R_ROUTER6 = bytes.fromhex("20010db80000000000000000000000fe")


def r_ip4(src, dst, proto, payload, opts=b"", ident=0x1234, frag=0x4000, ttl=57):
    hl = 20 + len(opts)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, hl + len(payload), ident, frag, ttl, proto, 0, src,
                      dst) + opts
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def r_ip6(src, dst, nxt, payload, hop=60):
    return struct.pack("!IHBB", 0x60000000, len(payload), nxt, hop) + src + dst + payload


def r_l4_csum(src, dst, proto, seg, at):
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(seg))
    else:
        pseudo = src + dst + struct.pack("!I3xB", len(seg), proto)
    c = csum(pseudo + seg)
    if proto == 17 and c == 0:
        c = 0xFFFF
    return seg[:at] + struct.pack("!H", c) + seg[at + 2:]


def r_tcp(src, dst, sport, dport, seq, ack, flags, opts=b""):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (20 + len(opts)) // 4 << 4, flags, 0xFFFF, 0, 0) + opts
    return r_l4_csum(src, dst, 6, seg, 16)


def r_udp(src, dst, sport, dport, data):
    return r_l4_csum(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data, 6)


def r_icmp_error(typ, code, quote):
    return bytes([typ, code, 0, 0]) + bytes(4) + quote  # checksum not verified: left 0


MSS = bytes.fromhex("020405b4")
v4 = lambda seg, **kw: r_ip4(R_HOST4, R_US4, 6, seg, **kw)  # noqa: E731
write("syn_reply", "v4_rst_ack", v4(r_tcp(R_HOST4, R_US4, 22, 40000, 0, 0xA1B2C3D5, 0x14)))
write("syn_reply", "v4_synack_mss", v4(r_tcp(R_HOST4, R_US4, 443, 40000, 0x11223344, 0xA1B2C3D5, 0x12, MSS)))
write("syn_reply", "v4_ipopts_synack",
      v4(r_tcp(R_HOST4, R_US4, 8080, 40000, 7, 8, 0x12, MSS), opts=b"\x01\x01\x01\x00"))
padded = v4(r_tcp(R_HOST4, R_US4, 80, 40000, 7, 8, 0x12)) + bytes(16)
write("syn_reply", "v4_synack_padded", padded)
write("syn_reply", "v4_truncated", padded[:30])
write("syn_reply", "v6_rst_ack", r_ip6(R_HOST6, R_US6, 6, r_tcp(R_HOST6, R_US6, 23, 40000, 0, 0x01020304, 0x14)))
write("syn_reply", "v6_synack_mss",
      r_ip6(R_HOST6, R_US6, 6, r_tcp(R_HOST6, R_US6, 443, 40000, 0x55667788, 0x01020304, 0x12, MSS)))

# udp_probe: UDP replies, our own probes, and ICMP(v6) errors quoting UDP and SYN probes.
probe4 = r_ip4(R_US4, R_HOST4, 17, r_udp(R_US4, R_HOST4, 40001, 53, b"probe"), ident=77, frag=0, ttl=64)
syn4 = r_ip4(R_US4, R_HOST4, 6, r_tcp(R_US4, R_HOST4, 40002, 443, 0xA1B2C3D4, 0, 0x02, MSS), ident=78, frag=0,
             ttl=64)
probe6 = r_ip6(R_US6, R_HOST6, 17, r_udp(R_US6, R_HOST6, 40003, 5353, b"probe6"), hop=64)
syn6 = r_ip6(R_US6, R_HOST6, 6, r_tcp(R_US6, R_HOST6, 40004, 22, 0x55667788, 0, 0x02, MSS), hop=64)
write("udp_probe", "v4_udp_reply", r_ip4(R_HOST4, R_US4, 17, r_udp(R_HOST4, R_US4, 53, 40001, b"\x4c\x52\x81\x80")))
write("udp_probe", "v4_udp_reply_padded_opts",
      r_ip4(R_HOST4, R_US4, 17, r_udp(R_HOST4, R_US4, 123, 40001, bytes(48)), opts=b"\x01\x01\x01\x00") + bytes(6))
write("udp_probe", "v4_udp_probe", probe4)
write("udp_probe", "v4_udp_empty", r_ip4(R_HOST4, R_US4, 17, r_udp(R_HOST4, R_US4, 7, 40001, b"")))
write("udp_probe", "v4_icmp_port_unreach", r_ip4(R_HOST4, R_US4, 1, r_icmp_error(3, 3, probe4[:28])))
write("udp_probe", "v4_icmp_admin_syn_full", r_ip4(R_ROUTER4, R_US4, 1, r_icmp_error(3, 13, syn4)))
write("udp_probe", "v4_icmp_host_unreach_ports_only", r_ip4(R_ROUTER4, R_US4, 1, r_icmp_error(3, 1, syn4[:24])))
write("udp_probe", "v4_icmp_time_exceeded", r_ip4(R_ROUTER4, R_US4, 1, r_icmp_error(11, 0, probe4[:28])))
write("udp_probe", "v4_icmp_frag_needed", r_ip4(R_ROUTER4, R_US4, 1, r_icmp_error(3, 4, probe4)))
write("udp_probe", "v4_icmp_quote_too_short", r_ip4(R_HOST4, R_US4, 1, r_icmp_error(3, 3, probe4[:23])))
write("udp_probe", "v4_icmp_echo_reply", r_ip4(R_HOST4, R_US4, 1, bytes([0, 0, 0, 0, 0, 1, 0, 1]) + b"ping"))
write("udp_probe", "v4_truncated", r_ip4(R_HOST4, R_US4, 1, r_icmp_error(3, 3, probe4[:28]))[:40])
write("udp_probe", "v6_udp_reply", r_ip6(R_HOST6, R_US6, 17, r_udp(R_HOST6, R_US6, 5353, 40003, b"\x00\x00\x84\x00")))
write("udp_probe", "v6_udp_probe", probe6)
write("udp_probe", "v6_icmp_port_unreach", r_ip6(R_HOST6, R_US6, 58, r_icmp_error(1, 4, probe6)))
write("udp_probe", "v6_icmp_prohibited_syn", r_ip6(R_ROUTER6, R_US6, 58, r_icmp_error(1, 1, syn6)))
write("udp_probe", "v6_icmp_time_exceeded_ports_only", r_ip6(R_ROUTER6, R_US6, 58, r_icmp_error(3, 0, syn6[:44])))
write("udp_probe", "v6_hop_by_hop", r_ip6(R_HOST6, R_US6, 0, bytes([17, 0, 1, 4, 0, 0, 0, 0]) + bytes(8)))

# udp_payloads: nmap-payloads syntax (our own sample entries, not nmap's data).
UDP_PAYLOADS = {
    "simple": 'udp 7 "hello\\r\\n"\n',
    "multi_line": '# comment\nudp 53,5353\n  "\\x00\\x01"  # trailing\n  "\\x00\\x00"\n\nudp 123 "\\x23" "\\0\\0\\0"\n',
    "ranges_source": 'udp 1000-1010,2000 "abc"\nsource 500\nudp 1-65535 ""\n',
    "unknown_keyword": 'udp 9 "x"\nfuture stuff "on" this line\nudp 10 "y"\n',
    "escapes": 'udp 1 "\\a\\b\\f\\n\\r\\t\\v\\\\\\"\\\'\\?\\101\\7\\x7f#"\n',
    "error_no_string": "udp 53\nudp 54 \"x\"\n",
    "error_bad_port": 'udp 70000 "x"\n',
    "error_unterminated": 'udp 1 "abc\n"\n',
    "error_bad_escape": 'udp 1 "\\q"\n',
    "error_string_after_keyword": 'udp 1 "x"\nsource 2\n"y"\n',
    "long_payload": 'udp 2 "' + "\\xff" * 1400 + '"\n',
    "too_long_payload": 'udp 2 "' + "a" * 1400 + '" "b"\n',
}
for name, text in UDP_PAYLOADS.items():
    write("udp_payloads", name, text.encode())

# resume_journal: --resume files (scan/resume.hpp), good, torn and hostile.
J = b"lrscan-resume-2 1234567 131070\n"
write("resume_journal", "fresh", J)
write("resume_journal", "answers_and_checkpoint", J + b"A 0 1 2\nA 65535 0 0\nP 40000 0\n")
write("resume_journal", "torn_last_line", J + b"A 7 1 2\nP 100 0\nA 9 1")
write("resume_journal", "retry_round", J + b"A 1 0 0\nP 131070 2\n")
write("resume_journal", "pair_out_of_range", J + b"A 131070 1 2\n")
write("resume_journal", "bad_state", J + b"A 5 9 2\n")
write("resume_journal", "bad_magic", b"lrscan-resume-1 1 2 3 0\n")
write("resume_journal", "unknown_record", J + b"X 1 2\n")
write("resume_journal", "huge_numbers", J + b"P 99999999999999999999999 0\n")

# web_request: btest-pro dashboard requests (web/request.hpp): method, path,
# Authorization, Cookie, then KEY=VALUE query parameters, one per line.
WEB_REQUESTS = {
    "index": "GET\n/\n\n\n",
    "ip_sessions": "GET\n/api/v1/ip/127.0.0.1/sessions\n\n\nlimit=20",
    "ip6_quota": "GET\n/api/v1/ip/2001:db8::1/quota\n\n\n",
    "mapped_page": "GET\n/ip/::ffff:10.0.0.1\n\n\n",
    "session_chart": "HEAD\n/api/v1/sessions/9007199254740992/chart.svg\n\n\n",
    "session_export_csv": "GET\n/api/v1/sessions/7/export\n\n\nformat=csv",
    "admin_top": "GET\n/api/v1/admin/top-ips\nBearer abcdefghijklmnop0123\n\nwindow=week\nlimit=5",
    "admin_cookie": "GET\n/api/v1/admin/users\n\ntheme=dark; btest_admin=abcdefghijklmnop0123\nlimit=1000",
    "login_post": "POST\n/api/v1/admin/login\n\n\n",
    "login_get": "GET\n/api/v1/admin/login\n\n\n",
    "asset": "GET\n/static/app.js\n\n\n",
    "asset_dotdot": "GET\n/static/..\n\n\n",
    "injection_ip": "GET\n/api/v1/ip/1' OR '1'='1/sessions\n\n\n",
    "huge_id": "GET\n/api/v1/sessions/99999999999999999999\n\n\n",
    "leading_zero_id": "GET\n/api/v1/sessions/007\n\n\n",
    "bad_limit": "GET\n/api/v1/ip/127.0.0.1/sessions\n\n\nlimit=1001",
    "twice": "GET\n/api/v1/ip/127.0.0.1/sessions\n\n\nlimit=1\nlimit=2",
    "unknown_param": "GET\n/api/v1/stats\n\n\nx=1",
    "bad_window": "GET\n/api/v1/admin/top-ips\n\n\nwindow=year",
    "listen_v6": "GET\n[::1]:8080\n\n\n",
    "token_like": "GET\nabcdefghijklmnop0123\n\n\n",
    "control_chars": "GET\n/ip/\x01\x7f\r\n\n\n",
    "delete": "DELETE\n/api/v1/sessions/1\n\n\n",
}
for name, text in WEB_REQUESTS.items():
    write("web_request", name, text.encode("latin-1"))
