"""Page templates (Jinja); shipped in the wheel as ``certificate.templates``."""
