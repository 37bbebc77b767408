"""Admin pages about issued certificates: find one by its number, ask for its revocation with a reason."""
