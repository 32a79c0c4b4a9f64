#!/usr/bin/env python3
"""A real SMTP server for the tests (aiosmtpd). Usage: smtp_server.py DIR MODE

Listens on 127.0.0.1 (a free port, printed as `port N` on the first line of stdout) and stores
each accepted message as DIR/<n>.eml (its envelope recipients in an `X-Envelope-To` line first).
MODE decides the replies to DATA:
  accept      250 for every message
  defer:N     451 for the first N messages, then 250
  reject      550 for every message
"""
import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP


class Store:
    def __init__(self, directory, mode):
        self.directory = directory
        self.mode = mode
        self.deferrals = int(mode.split(":", 1)[1]) if mode.startswith("defer:") else 0
        self.stored = 0

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "reject":
            return "550 5.7.1 Refused by the test server"
        if self.deferrals > 0:
            self.deferrals -= 1
            return "451 4.3.0 Try again later"
        self.stored += 1
        path = os.path.join(self.directory, f"{self.stored:06d}.eml")
        with open(path + ".part", "wb") as out:
            out.write(f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode())
            out.write(envelope.original_content)
        os.rename(path + ".part", path)
        return "250 2.0.0 Stored"


async def main():
    directory, mode = sys.argv[1], sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    store = Store(directory, mode)
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(store, hostname="test-smtp"), "127.0.0.1", 0)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
