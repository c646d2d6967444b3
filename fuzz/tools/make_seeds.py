#!/usr/bin/env python3
"""Writes the hand-made seeds of netbase_fuzzer and name_fuzzer (layouts: see the targets).

    fuzz/tools/make_seeds.py [REPO_ROOT]

dns_reply_fuzzer's seeds are real server replies (fuzz/tools/dns_seed_gen.cc); ops_fuzzer's
are tapes chosen per model-coverage cell (fuzz/tools/ops_seed_gen.cc).
"""
import os
import struct
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")


def write(target, name, data):
    d = os.path.join(ROOT, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- netbase_fuzzer: [buffer size byte][misalign byte] text ---------------------------------
services = open(os.path.join(ROOT, "corpus", "netbase", "services"), "rb").read()
protocols = open(os.path.join(ROOT, "corpus", "netbase", "protocols"), "rb").read()
split = b"\n==protocols==\n"
nb = {
    "services": (200, 0, services),
    "protocols": (60, 3, protocols),
    "both_split": (255, 1, services + split + protocols),
    "crlf": (90, 0, services.replace(b"\n", b"\r\n")),
    "malformed_lines": (128, 5, b"noport\nbad 70000/tcp\nneg -1/tcp\nsl 1//tcp\nempty /tcp\n"
                        b"x 12/\nhex 0x10/tcp\nplus +5/udp\nok 5/udp a b c\n\x00nul 1/tcp\n"
                        b"tab\t9/udp\tdiscard\n"),
    "protocol_bounds": (64, 7, split + b"p0 0\np255 255 P\np256 256\npneg -1\npx 1x\n"),
    "long_line": (160, 2, b"long 1/tcp " + b"a" * 5000 + b"\nshort 2/tcp\n"),
    "many_aliases": (40, 4, b"svc 9/tcp " + b" ".join(b"al%d" % i for i in range(300)) + b"\n"),
    "comments_only": (10, 0, b"# nothing\n   # indented\n\n\t\n"),
    "high_bytes": (100, 6, "caf\u00e9 80/tcp \u00fcber\n".encode("utf-8") + b"\xff\xfe 1/udp\n"),
    "duplicates_first_wins": (150, 0, b"dup 1/tcp\ndup 2/tcp\nother 1/tcp dup\n" + split +
                              b"dup 1\ndup 2\nother 1 dup\n"),
}
for name, (size, misalign, text) in nb.items():
    write("netbase_fuzzer", name, bytes([size, misalign]) + text)


# ---- name_fuzzer ----------------------------------------------------------------------------
# [flags] then ops: [op][buffer byte] + kind arguments. op % 6: 0 HostByName, 1 HostByAddr,
# 2 ProtoByName, 3 ProtoByNumber, 4 ServByName, 5 ServByPort; op & 0x40 NULL window;
# op & 0x80 left to the final cleanup; (op & 0x3f) >= 60 network down/up.
# Buffer byte b: b % 20 == 0 size query, 1 NULL + length, 2 negative, 3 u16 length, 4 zero,
# else a size from the table (b % 14); (b >> 5) % 8 misaligns the buffer.
def s(text):  # a string argument
    if text is None:
        return b"\xff"
    return bytes([len(text)]) + text


def op(kind, buf, args, null_window=False, to_cleanup=False):
    b = kind | (0x40 if null_window else 0) | (0x80 if to_cleanup else 0)
    return bytes([b, buf]) + args


BUF_1024 = 11 + 14  # 25 % 20 = 5 -> table; 25 % 14 = 11 -> 1024
BUF_8 = 1 + 14 * 1 + 20 * 0  # 15: 15 % 20 = 15 -> table, 15 % 14 = 1 -> 8
SIZE_QUERY, NULL_LEN, NEGATIVE, ZERO = 0, 1, 2, 4
ADDR4, ADDR6 = 0, 1

name = {
    "host_numeric": op(0, BUF_1024, s(b"10.0.0.1")),
    "host_hosts_file": op(0, BUF_1024, s(b"host1.test")),
    "host_dns_canceled": op(0, BUF_1024, s(b"www.example.com")),
    "host_null": op(0, BUF_1024, s(None)),
    "host_empty": op(0, BUF_1024, s(b"")),
    "host_too_long": op(0, BUF_1024, b"\xfe\x10"),
    "host_size_query": op(0, SIZE_QUERY, s(b"127.0.0.1")),
    "host_null_buffer_len": op(0, NULL_LEN, s(b"127.0.0.1")),
    "host_negative_len": op(0, NEGATIVE, s(b"127.0.0.1")),
    "host_small_buffer": op(0, BUF_8, s(b"10.0.0.1")),
    "addr_v4": op(1, BUF_1024, bytes([0, 0]) + b"\x0a\x00\x00\x01" + b"\x00" * 28),
    "addr_v6": op(1, BUF_1024, bytes([1, 0]) + b"\xfd" + b"\x00" * 14 + b"\x01" + b"\x00" * 16),
    "addr_bad_family": op(1, BUF_1024, bytes([2, 0, 30]) + b"\x0a\x00\x00\x01" + b"\x00" * 28),
    "addr_bad_len": op(1, BUF_1024, bytes([0, 200, 3]) + b"\x0a\x00\x00\x01" + b"\x00" * 28),
    "addr_null": op(1, BUF_1024, bytes([0x80, 0]) + b"\x00" * 32),
    "proto_name": op(2, BUF_1024, s(b"tcp")),
    "proto_alias": op(2, BUF_1024, s(b"TCP")),
    "proto_missing": op(2, BUF_1024, s(b"nope")),
    "proto_number": op(3, BUF_1024, struct.pack("<H", 17)),
    "proto_number_negative": op(3, BUF_1024, struct.pack("<h", -6)),
    "serv_name_proto": op(4, BUF_1024, s(b"http") + s(b"tcp")),
    "serv_alias_any_proto": op(4, BUF_1024, s(b"www") + s(None)),
    "serv_null_name": op(4, BUF_1024, s(None) + s(b"udp")),
    "serv_port": op(5, BUF_1024, struct.pack("<H", 0x5000) + b"\x00" + s(b"tcp")),
    "serv_port_out_of_range": op(5, BUF_1024, struct.pack("<H", 80) + b"\x01" + s(None)),
    "serv_size_query": op(5, SIZE_QUERY, struct.pack("<H", 0x1600) + b"\x00" + s(None)),
    "null_window": op(2, BUF_1024, s(b"udp"), null_window=True),
    "left_to_cleanup": op(0, BUF_1024, s(b"www.example.com"), to_cleanup=True) +
                       op(2, BUF_1024, s(b"tcp"), to_cleanup=True),
    "network_down_then_up": bytes([60]) + op(2, BUF_1024, s(b"tcp")) + bytes([60]) +
                            op(2, BUF_1024, s(b"tcp")),
    "all_six": op(0, BUF_1024, s(b"127.0.0.1")) + op(1, BUF_1024, bytes([0, 0]) + b"\x7f\x00\x00\x01" + b"\x00" * 28) +
               op(2, BUF_1024, s(b"icmp")) + op(3, BUF_1024, struct.pack("<H", 41)) +
               op(4, BUF_1024, s(b"ssh") + s(b"tcp")) + op(5, BUF_1024, struct.pack("<H", 0x1600) + b"\x00" + s(b"tcp")),
}
for n, body in name.items():
    write("name_fuzzer", n, b"\x00" + body)
write("name_fuzzer", "before_startup_winsock11", b"\x03" + name["proto_name"])
print("netbase_fuzzer: %d seeds, name_fuzzer: %d seeds" % (len(nb), len(name) + 1))
