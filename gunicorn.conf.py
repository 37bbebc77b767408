"""gunicorn settings for production-like serving: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every value can be overridden from the environment (``IPC_BIND``,
``IPC_WEB_WORKERS``, ``IPC_WEB_THREADS``) or on the command line.
"""

import gc
import multiprocessing
import os
import time

from gunicorn.workers.gthread import ThreadWorker

#: How long a worker that already holds a connection per thread waits before it accepts
#: another, so that a worker holding fewer takes it first (BalancedThreadWorker).
ACCEPT_DEFERRAL_SECONDS = 0.001


class BalancedThreadWorker(ThreadWorker):
    """gunicorn's threaded worker, leaving a new connection to a less loaded worker first.

    The workers share one listening socket and the kernel wakes them all when a
    connection arrives: the first to call ``accept`` takes it, and a keep-alive
    connection stays with that worker for its life. Unbalanced, one worker
    commonly held 9 to 13 of a client's 16 pooled connections (a proxy's, or a
    load generator's) while another held one, and the busy worker's requests
    waited on each other for its single interpreter lock. A worker that already
    holds as many connections as it has threads now waits a millisecond before
    accepting, so that a worker with fewer takes the connection first. When every
    worker is that busy, a new connection waits that millisecond longer.
    """

    def accept(self, server, listener):
        if self.nr_conns >= self.cfg.threads:
            time.sleep(ACCEPT_DEFERRAL_SECONDS)
        super().accept(server, listener)


bind = os.environ.get("IPC_BIND", "127.0.0.1:8000")
# One worker a core: the threads overlap each worker's waits on the database and the
# network, and more processes than cores only take turns on them (docs/performance.md).
workers = int(os.environ.get("IPC_WEB_WORKERS", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("IPC_WEB_THREADS", 4))
worker_class = BalancedThreadWorker
timeout = 60
graceful_timeout = 30
keepalive = 5
# Requests are logged without the client's address, query strings or bodies: no personal
# data travels in URLs, and who verified a certificate is kept nowhere.
accesslog = "-"
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
forwarded_allow_ips = os.environ.get("IPC_FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Before a worker serves: keys, fonts, the PAdES authority and the PDF machinery
    (certificate/warmup.py), so the first request is as fast as any other."""
    if "ipc" not in getattr(worker.wsgi, "extensions", {}):
        return  # another app under the same settings (the benchmarks' bare route)
    from certificate.warmup import prepare

    prepare(worker.wsgi)
    # What start-up loaded (modules, fonts, catalogues, the PDF machinery: some 270,000
    # objects) lives as long as the worker. Frozen out of the cyclic collector's reach,
    # its full collections scan only what requests leave behind: unfrozen, each took
    # 0.1-0.2 s here, stalling every request of the worker (the verify benchmark's p99).
    gc.collect()
    gc.freeze()


def worker_exit(server, worker):
    """A stopping worker closes its database connections (certificate.close_app)."""
    if "ipc" not in getattr(worker.wsgi, "extensions", {}):
        return
    from certificate import close_app

    close_app(worker.wsgi)
