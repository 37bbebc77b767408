"""Admin pages about issued certificates: find one by its number, revoke it with a reason."""
