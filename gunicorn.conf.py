"""gunicorn settings for production-like serving: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every value can be overridden from the environment (``IPC_BIND``,
``IPC_WEB_WORKERS``, ``IPC_WEB_THREADS``) or on the command line.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("IPC_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("IPC_WEB_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("IPC_WEB_THREADS", 4))
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
keepalive = 5
# Requests are logged without query strings or bodies (no personal data travels in URLs).
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
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
