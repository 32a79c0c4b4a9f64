#!/usr/bin/env python3
"""A real SMTP server for the tests (aiosmtpd). Usage: smtp_server.py DIR MODE [--until-stdin-closes] [--port N]

Listens on 127.0.0.1 (a free port, printed as `port N` on the first line of stdout) and stores
each accepted message as DIR/<n>.eml (its envelope recipients in an `X-Envelope-To` line first).
MODE decides the replies:
  accept      250 for every message
  defer:N     451 to DATA for the first N messages, then 250
  reject      550 to DATA for every message
  rules       by the recipient's local part, so tests sharing one server never interfere:
                bounce...   550 to RCPT (no such user)
                refuse...   554 to DATA
                deferN...   451 to DATA for the first N messages to that address, then 250
                anything else 250
With --until-stdin-closes the server removes DIR and exits when its standard input closes (its
parent ended);
--port N listens on that port instead of a free one.
"""
import asyncio
import os
import re
import shutil
import sys
import threading

from aiosmtpd.smtp import SMTP


class Store:
    def __init__(self, directory, mode):
        self.directory = directory
        self.mode = mode
        self.deferrals = int(mode.split(":", 1)[1]) if mode.startswith("defer:") else 0
        self.deferred_to = {}
        self.stored = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "rules" and address.split("@")[0].lower().startswith("bounce"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def refusal(self, envelope):
        if self.mode == "reject":
            return "550 5.7.1 Refused by the test server"
        if self.deferrals > 0:
            self.deferrals -= 1
            return "451 4.3.0 Try again later"
        if self.mode != "rules":
            return None
        for address in envelope.rcpt_tos:
            local = address.split("@")[0].lower()
            if local.startswith("refuse"):
                return "554 5.7.1 Message refused by policy"
            wanted = re.match(r"defer(\d+)", local)
            if wanted:
                seen = self.deferred_to.get(address, 0)
                if seen < int(wanted.group(1)):
                    self.deferred_to[address] = seen + 1
                    return "451 4.3.0 Mailbox busy, try again later"
        return None

    async def handle_DATA(self, server, session, envelope):
        refused = self.refusal(envelope)
        if refused:
            return refused
        self.stored += 1
        path = os.path.join(self.directory, f"{self.stored:06d}.eml")
        with open(path + ".part", "wb") as out:
            out.write(f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode())
            out.write(envelope.original_content)
        os.rename(path + ".part", path)
        return "250 2.0.0 Stored"


def exit_when_stdin_closes(directory):
    while sys.stdin.buffer.read(4096):
        pass
    shutil.rmtree(directory, ignore_errors=True)
    os._exit(0)


async def main():
    directory, mode = sys.argv[1], sys.argv[2]
    if "--until-stdin-closes" in sys.argv[3:]:
        threading.Thread(target=exit_when_stdin_closes, args=(directory,), daemon=True).start()
    os.makedirs(directory, exist_ok=True)
    store = Store(directory, mode)
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 0
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(store, hostname="test-smtp"), "127.0.0.1", port)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
