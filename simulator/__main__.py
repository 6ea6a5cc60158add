"""python -m simulator: run the API simulator."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import ssl
import sys
import tempfile
from pathlib import Path

from aiohttp import web

from . import readings
from .core import Options, Simulator
from .fixture import FixtureError

log = logging.getLogger("simulator")


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="A stateful simulator of the TOS cloud platform's /v1 manager API (see simulator/README.md).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9990, help="port (default 9990; 0 picks a free port)")
    parser.add_argument("--fixture", help="YAML fixture of hosts and initial state (default: the packaged one)")
    parser.add_argument("--state-file", help="JSON state file: loaded at start if present, written after every change")
    parser.add_argument("--token", help="require 'Authorization: Bearer TOKEN' on every /v1 call")
    parser.add_argument("--tls-cert", help="PEM certificate (chain) to serve HTTPS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--legacy-envelope", action="store_true",
                        help='answer {"status_code","message_en","message_cn","data"} envelopes')
    parser.add_argument("--speed", type=float, default=1.0,
                        help="time factor of long operations (default 1.0: CVM deploy ~20 s; 10 = 10x faster)")
    parser.add_argument("--ready-file", help="write the base URL into this file once listening")
    parser.add_argument("--extensions", default="",
                        help="comma-separated additions not in the documents: fields, codes, loose, messagecn, "
                             "or all (default: none, documented-only)")
    parser.add_argument("--page-base", type=int, choices=readings.PAGE_BASES, default=1,
                        help="number of the first page (default 1)")
    parser.add_argument("--page-size-zero", choices=readings.PAGE_SIZE_ZERO, default="all",
                        help="what page_size=0 means: every item (default) or a default-sized page")
    parser.add_argument("--task-failure", choices=readings.TASK_FAILURES, default="stop",
                        help="how host/task/progress shows a failed task without the 'fields' extension")
    parser.add_argument("--cvm-host", choices=readings.CVM_HOSTS, default="machine_uuid",
                        help="where a CVM's host is named: cloud/manage machine_uuid (default) or only "
                             "all_cluster/topology (machine_uuid \"\" as in the documents' example)")
    parser.add_argument("--progress-lag", type=float, default=0.0, metavar="SECONDS",
                        help="for SECONDS (at speed 1) after a host task starts, host/task/progress still answers "
                             "the host's previous task (1.0 when it finished); documented-only (default 0: none)")
    parser.add_argument("--quiet", action="store_true", help="do not log one line per request")
    args = parser.parse_args(argv)
    try:
        extensions = readings.parse_extensions(args.extensions)
    except ValueError as exc:
        parser.error(str(exc))
    if args.progress_lag < 0:
        parser.error("--progress-lag must be >= 0")
    if args.speed <= 0:
        parser.error("--speed must be > 0")
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be 0-65535")
    return Options(
        host=args.host,
        port=args.port,
        fixture=args.fixture,
        state_file=args.state_file,
        token=args.token,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        legacy_envelope=args.legacy_envelope,
        speed=args.speed,
        ready_file=args.ready_file,
        quiet=args.quiet,
        extensions=extensions,
        page_base=args.page_base,
        page_size_zero=args.page_size_zero,
        task_failure=args.task_failure,
        cvm_host=args.cvm_host,
        progress_lag=args.progress_lag,
    )


def _write_atomically(path: str, text: str) -> None:
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, target)


async def serve(options: Options) -> None:
    from .app import make_app  # imported here so that --help stays fast

    sim = Simulator(options)
    ssl_context = None
    if options.tls_cert:
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(options.tls_cert, options.tls_key)
    runner = web.AppRunner(make_app(sim), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, options.host, options.port, ssl_context=ssl_context, reuse_address=True)
    await site.start()
    port = runner.addresses[0][1]
    scheme = "https" if ssl_context else "http"
    host = options.host if ":" not in options.host else f"[{options.host}]"
    base_url = f"{scheme}://{host}:{port}"
    if options.ready_file:
        _write_atomically(options.ready_file, base_url + "\n")
    print(f"SIMULATOR READY {base_url}", flush=True)
    log.info(
        "listening on %s (%d hosts, %d clusters, speed %g%s%s)",
        base_url, len(sim.world.hosts), len(sim.world.clusters), sim.speed,
        ", token required" if options.token else "", ", legacy envelope" if options.legacy_envelope else "",
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping")
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s simulator %(levelname)s %(message)s")
    logging.getLogger("aiohttp").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(options))
    except FixtureError as exc:
        log.error("%s", exc)
        return 2
    except (OSError, ssl.SSLError, ValueError) as exc:
        log.error("cannot start: %s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
