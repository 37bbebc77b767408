"""Fuzz the JSON API from its own OpenAPI document with schemathesis.

Starts the service as a real process on loopback with sandbox countries,
creates an applicant and a bearer token, and runs schemathesis against every
operation: no 5xx, responses match the documented schemas, status codes and
content types are documented, and invalid data is rejected. Then it sends the
hostile inputs of an outside audit (PDFs with nested arrays, a reference loop,
``/Count 1e400`` and an object-stream bomb; JSON nested 50,000 deep) to the
upload and JSON endpoints: every answer must be a 4xx. Exits non-zero on any
failure. ``make fuzz`` runs it; ``--max-examples`` bounds the run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile import attack  # noqa: E402 - after the path set-up
from tests.live import live_service  # noqa: E402

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    ]
)


def main() -> int:
    """Run the fuzzer; returns its exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=60)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        live_service(
            Path(tmp), VERIFY_RATE_LIMIT="100000/minute", LOGIN_RATE_LIMIT="100000/minute"
        ) as service,
    ):
        http = service.applicant("fuzz@example.org")
        token = http.headers["Authorization"].removeprefix("Bearer ")
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{service.base_url}/api/v1/openapi.json",
            "--checks",
            CHECKS,
            "--header",
            f"Authorization: Bearer {token}",
            "--max-examples",
            str(args.max_examples),
            "--phases",
            "examples,coverage,fuzzing",
            "--workers",
            "2",
            "--seed",
            "20261129",
            "--suppress-health-check",
            "all",
        ]
        result = subprocess.run(command, cwd=ROOT, check=False)
        answers = attack(service.client(timeout=60))
        wrong = [(what, status) for what, status in answers if not 400 <= status < 500]
        for what, status in wrong:
            print(f"hostile input answered {status}, not a 4xx: {what}", file=sys.stderr)
        return result.returncode or (1 if wrong else 0)


if __name__ == "__main__":
    sys.exit(main())
