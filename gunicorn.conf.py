"""gunicorn settings for production-like serving: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every value can be overridden from the environment (``IPC_BIND``,
``IPC_WEB_WORKERS``, ``IPC_WEB_THREADS``) or on the command line.
"""

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


def worker_exit(server, worker):
    """A stopping worker closes its database connections (certificate.close_app)."""
    if "ipc" not in getattr(worker.wsgi, "extensions", {}):
        return
    from certificate import close_app

    close_app(worker.wsgi)
