"""Bulk insert of 10,000 users: asyncpg's COPY against the service's endpoint.

    python bench/bulk.py DSN SERVICE_URL RUNS

Run by bench/run.py, in this project's virtualenv (asyncpg, httpx); prints the rows/s
of each run as JSON: {"copy": [...], "service": [...]}.
"""

import asyncio
import json
import sys
import time
import uuid

import asyncpg
import httpx

ROWS = 10_000


async def main(dsn: str, url: str, runs: int) -> None:
    connection = await asyncpg.connect(dsn)
    copy, service = [], []
    for run in range(runs):
        rows = [
            (uuid.uuid4(), f"copy{run}-{i}@bulk.example", "Bulk") for i in range(ROWS)
        ]
        started = time.perf_counter()
        await connection.copy_records_to_table(
            "users", records=rows, columns=["id", "email", "full_name"]
        )
        copy.append(ROWS / (time.perf_counter() - started))
        # Encoded before the clock starts, as COPY's rows are built before it:
        # what is timed is the service, not the client's JSON encoder.
        body = json.dumps(
            [
                {"email": f"api{run}-{i}@bulk.example", "full_name": "Bulk"}
                for i in range(ROWS)
            ]
        ).encode()
        headers = {"Content-Type": "application/json"}
        async with httpx.AsyncClient(timeout=120) as client:
            started = time.perf_counter()
            response = await client.post(
                url + "/api/v1/users/bulk", content=body, headers=headers
            )
            service.append(ROWS / (time.perf_counter() - started))
        if response.status_code != 201:
            sys.exit(f"bulk insert answered {response.status_code}: {response.text}")
    await connection.close()
    print(json.dumps({"copy": copy, "service": service}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
