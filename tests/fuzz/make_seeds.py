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
