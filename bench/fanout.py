"""Fan-out: one application to 20 sandbox countries answering in 500 ms each.

Runs the service as a real process on loopback, files one application naming
twenty countries, and prints the time from filing to issuance as a multiple
of one country's latency. The baseline, measured in the same run on the same
server, is an application naming a single country: its ratio shows the fixed
cost of a filing (dispatch, issuance, PDF), so a noisy machine shows up in
both numbers alike. Goal: 20 countries in at most 4x one country's latency.

    .venv/bin/python bench/fanout.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.live import live_service

LATENCY_MS = 500
COUNTRIES = [
    "KE",
    "TH",
    "NG",
    "GB",
    "FR",
    "ES",
    "IN",
    "BR",
    "ZA",
    "PH",
    "CA",
    "MA",
    "DE",
    "IT",
    "JP",
    "KR",
    "MX",
    "AR",
    "EG",
    "SA",
]
GOAL = 4.0


def _body(countries: list[str]) -> dict[str, Any]:
    return {
        "applicant": {
            "family_name": "Okafor",
            "given_names": "Ada",
            "date_of_birth": "1990-04-17",
            "place_of_birth": {"city": "Lagos", "country": "NG"},
            "nationalities": [countries[0]],
            "identity_document": {
                "type": "passport",
                "number": "A1234567",
                "issuing_country": "NG",
                "expires": "2031-01-01",
            },
        },
        "residences": [
            {
                "country": c,
                "from": f"{2000 + i // 12:04d}-{i % 12 + 1:02d}",
                "to": f"{2000 + i // 12:04d}-{i % 12 + 1:02d}",
            }
            for i, c in enumerate(countries)
        ],
        "language": "en",
        "purpose": "Benchmark",
        "consent": True,
    }


def time_to_issuance(http: httpx.Client, countries: list[str]) -> float:
    """Seconds from the filing request to the certificate appearing."""
    started = time.perf_counter()
    filed = http.post("/api/v1/applications", json=_body(countries))
    filed.raise_for_status()
    url = f"/api/v1/applications/{filed.json()['id']}"
    while True:
        if http.get(url).json()["certificate"] is not None:
            return time.perf_counter() - started
        if time.perf_counter() - started > 120:
            raise RuntimeError("no certificate after 120 s")
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        live_service(
            Path(tmp),
            SANDBOX_COUNTRIES=",".join(COUNTRIES),
            SANDBOX_LATENCY_MS=str(LATENCY_MS),
            VERIFY_RATE_LIMIT="100000/minute",
        ) as service,
    ):
        http = service.applicant("b@example.org", timeout=30)
        time_to_issuance(http, COUNTRIES[:1])  # warm-up: first key, fonts, caches
        one = [time_to_issuance(http, COUNTRIES[:1]) for _ in range(args.rounds)]
        twenty = [time_to_issuance(http, COUNTRIES) for _ in range(args.rounds)]
    latency = LATENCY_MS / 1000
    one_s, twenty_s = statistics.median(one), statistics.median(twenty)
    print(f"one country latency (configured):   {latency:.3f} s")
    print(
        f"1 country,  filing to issuance:     {one_s:.3f} s  = {one_s / latency:.2f}x latency "
        "(baseline)"
    )
    print(
        f"20 countries, filing to issuance:   {twenty_s:.3f} s  = {twenty_s / latency:.2f}x "
        f"latency (goal <= {GOAL:.0f}x)"
    )
    print(f"20 countries / 1 country:           {twenty_s / one_s:.2f}")
    return 0 if twenty_s / latency <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
