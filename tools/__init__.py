"""Developer tools that run beside the service (not part of the installed package)."""
