"""Admin pages about checks: failed checks, retried or answered by hand; approvals of admins' actions."""
