#!/usr/bin/env python3
"""The peer for scripts/faults/run: drives an echo server or mini_redis
from plain blocking sockets (outside the shim's reach: it touches only
non-blocking descriptors) and checks every byte that comes back.

    client.py echo  HOST:PORT CONNECTIONS BYTES
    client.py redis HOST:PORT CONNECTIONS COMMANDS

Prints one line of counts and exits 0 when every connection got back
exactly what it should and saw the server close after its own FIN;
exits 1 otherwise. A connection that stalls for TIMEOUT seconds counts
as hung. `--lenient` (for faults that break connections on purpose)
accepts connections the server ended early, as long as what came back
is a prefix of what was sent and the end came promptly.
"""
import random
import socket
import sys
import threading

TIMEOUT = 20.0


def recv_exactly(sock, n):
    out = bytearray()
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def echo_one(addr, size, seed, results):
    rng = random.Random(seed)
    payload = bytes(rng.getrandbits(8) for _ in range(size))
    sock = socket.create_connection(addr, timeout=TIMEOUT)
    got = bytearray()
    try:
        # Send in random pieces, reading what comes back as we go, so that
        # neither side's buffers fill up.
        sent = 0
        while sent < size:
            piece = rng.randint(1, 8192)
            sock.sendall(payload[sent:sent + piece])
            sent += len(payload[sent:sent + piece])
            while len(got) < sent:
                chunk = sock.recv(65536)
                if not chunk:
                    raise EOFError
                got += chunk
        sock.shutdown(socket.SHUT_WR)
        rest = sock.recv(1)
        if rest:
            results.append(("extra", seed))
        elif bytes(got) != payload:
            results.append(("mismatch", seed))
        else:
            results.append(("ok", seed))
    except socket.timeout:
        results.append(("hung", seed))
    except (EOFError, ConnectionResetError, BrokenPipeError):
        kind = "closed-early" if payload.startswith(bytes(got)) else "mismatch"
        results.append((kind, seed))
    except OSError as error:
        results.append(("error-%s" % type(error).__name__, seed))
    finally:
        sock.close()


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for arg in args:
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


def read_reply(f):
    line = f.readline()
    if not line:
        raise EOFError
    if line[:1] == b"$":
        n = int(line[1:])
        if n < 0:
            return None
        data = f.read(n + 2)
        if len(data) < n + 2:
            raise EOFError
        return data[:-2]
    return line.rstrip(b"\r\n")


def redis_one(addr, commands, seed, results):
    rng = random.Random(seed)
    sock = socket.create_connection(addr, timeout=TIMEOUT)
    f = sock.makefile("rb")
    try:
        key = b"k%d" % seed
        counter = b"c%d" % seed
        count = 0
        for i in range(commands):
            value = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 3000)))
            # Pipelined: three commands in one write, their replies after.
            sock.sendall(resp(b"SET", key, value) + resp(b"GET", key) + resp(b"INCR", counter))
            count += 1
            replies = [read_reply(f), read_reply(f), read_reply(f)]
            if replies != [b"+OK", value, b":%d" % count]:
                results.append(("mismatch", seed))
                return
        sock.shutdown(socket.SHUT_WR)
        if f.read(1):
            results.append(("extra", seed))
        else:
            results.append(("ok", seed))
    except socket.timeout:
        results.append(("hung", seed))
    except (EOFError, ConnectionResetError, BrokenPipeError):
        results.append(("closed-early", seed))
    except OSError as error:
        results.append(("error-%s" % type(error).__name__, seed))
    finally:
        f.close()
        sock.close()


def main():
    args = sys.argv[1:]
    lenient = "--lenient" in args
    args = [a for a in args if a != "--lenient"]
    mode, addr, connections, amount = args
    host, port = addr.rsplit(":", 1)
    addr = (host, int(port))
    one = echo_one if mode == "echo" else redis_one
    results = []

    def guarded(addr, size, seed, results):
        try:
            one(addr, size, seed, results)
        except OSError as error:  # the connect itself
            results.append(("connect-%s" % type(error).__name__, seed))
    threads = []
    for seed in range(int(connections)):
        # The first ones are big, the rest small: bulk and chatter.
        size = int(amount) if seed % 4 == 0 else max(1, int(amount) // 64)
        t = threading.Thread(target=guarded, args=(addr, size, seed, results))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    counts = {}
    for kind, _ in results:
        counts[kind] = counts.get(kind, 0) + 1
    print("client %s: %s" % (mode, " ".join("%s=%d" % kv for kv in sorted(counts.items()))))
    allowed = {"ok", "closed-early"} if lenient else {"ok"}
    failed = len(results) != len(threads) or any(kind not in allowed for kind, _ in results)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
