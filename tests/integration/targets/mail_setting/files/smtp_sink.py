#!/usr/bin/env python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A local SMTP sink for the mail_setting integration target.

Listens on 127.0.0.1 on a free port, writes every message it receives to DIR/msg-N.json
({"mail_from", "rcpt_tos", "data"}), and writes DIR/port and DIR/pid once listening.
With SINK_USER and SINK_PASSWORD in the environment it offers AUTH (PLAIN/LOGIN, no TLS needed)
and accepts only that account. It stops on SIGTERM, or by itself after --lifetime seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # pylint: disable=unused-argument
        with self.lock:
            count = len([n for n in os.listdir(self.directory) if n.startswith("msg-")])
            path = os.path.join(self.directory, "msg-%d.json" % (count + 1))
            record = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                      "data": envelope.content.decode("utf-8", errors="replace")}
            with open(path + ".tmp", "w", encoding="utf-8") as handle:
                json.dump(record, handle)
            os.replace(path + ".tmp", path)
        return "250 Message accepted"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):  # pylint: disable=unused-argument
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
            and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)
    return check


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory")
    parser.add_argument("--lifetime", type=float, default=300.0)
    args = parser.parse_args()
    os.makedirs(args.directory, exist_ok=True)
    user, password = os.environ.get("SINK_USER"), os.environ.get("SINK_PASSWORD")
    kwargs = {}
    if user and password:
        kwargs = {"authenticator": authenticator(user, password), "auth_require_tls": False}
    controller = Controller(Sink(args.directory), hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    for name, value in (("pid", os.getpid()), ("port", controller.port)):
        with open(os.path.join(args.directory, name), "w", encoding="utf-8") as handle:
            handle.write("%s\n" % value)
    stop.wait(args.lifetime)
    controller.stop()


if __name__ == "__main__":
    main()
