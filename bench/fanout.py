"""Fan-out: one application to 20 sandbox countries answering in 500 ms each.

Runs the service as a real process on loopback (gunicorn, gunicorn.conf.py),
files one application naming twenty countries, and prints the time from
filing to issuance as a multiple of one country's latency. Warm: on one
instance after a first filing, alternating with an application naming a
single country (its ratio shows the fixed cost of a filing: dispatch,
issuance, PDF). Fresh: the very first filing of a newly started instance
(a new instance, database and key store each round), which is where work
left to the first request would show. Goals: 20 countries within 2x one
country's latency warm, and 2.5x fresh.

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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import verdict

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
#: 20 countries, as a multiple of one country's latency, on a warm and on a fresh instance
WARM_GOAL = 2.0
FRESH_GOAL = 2.5


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


def _service(tmp: Path) -> Any:
    return live_service(
        tmp,
        server="gunicorn",
        SANDBOX_COUNTRIES=",".join(COUNTRIES),
        SANDBOX_LATENCY_MS=str(LATENCY_MS),
        VERIFY_RATE_LIMIT="100000/minute",
    )


def fresh_runs(tmp: Path, rounds: int) -> list[float]:
    """The first filing of a freshly started instance, 20 countries, on a new instance each time."""
    times = []
    for round_no in range(rounds):
        work = tmp / f"fresh-{round_no}"
        work.mkdir()
        with _service(work) as service:
            http = service.applicant("fresh@example.org", timeout=30)
            times.append(time_to_issuance(http, COUNTRIES))
        print(f"  fresh round {round_no + 1}: 20 countries {times[-1]:.3f} s", flush=True)
    return times


def warm_runs(tmp: Path, rounds: int) -> tuple[list[float], list[float]]:
    """One country and 20 countries, alternating, on one instance after a warm-up filing."""
    work = tmp / "warm"
    work.mkdir()
    one: list[float] = []
    twenty: list[float] = []
    with _service(work) as service:
        http = service.applicant("warm@example.org", timeout=30)
        time_to_issuance(http, COUNTRIES[:1])  # warm-up
        for round_no in range(rounds):
            one.append(time_to_issuance(http, COUNTRIES[:1]))
            twenty.append(time_to_issuance(http, COUNTRIES))
            print(
                f"  warm round {round_no + 1}: 1 country {one[-1]:.3f} s, "
                f"20 countries {twenty[-1]:.3f} s",
                flush=True,
            )
    return one, twenty


def main() -> int:
    """Run fresh and warm; exit 1 when a goal is not met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = fresh_runs(Path(tmp), args.rounds)
        one, twenty = warm_runs(Path(tmp), args.rounds)
    latency = LATENCY_MS / 1000
    fresh_s = statistics.median(fresh)
    one_s, twenty_s = statistics.median(one), statistics.median(twenty)
    print(f"one country latency (configured):     {latency:.3f} s")
    print(f"warm, 1 country:   filing to issuance  {one_s:.3f} s = {one_s / latency:.2f}x latency")
    print(
        f"warm, 20 countries: filing to issuance {twenty_s:.3f} s = {twenty_s / latency:.2f}x "
        f"latency ({verdict(twenty_s / latency, WARM_GOAL, higher_is_better=False)})"
    )
    print(
        f"fresh, 20 countries: first filing      {fresh_s:.3f} s = {fresh_s / latency:.2f}x "
        f"latency ({verdict(fresh_s / latency, FRESH_GOAL, higher_is_better=False)})"
    )
    print(f"warm 20 countries / warm 1 country:    {twenty_s / one_s:.2f}")
    met = twenty_s / latency <= WARM_GOAL and fresh_s / latency <= FRESH_GOAL
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
