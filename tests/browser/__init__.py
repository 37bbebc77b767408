"""Browser tests: Playwright drives Debian's Chromium against the service on loopback."""
