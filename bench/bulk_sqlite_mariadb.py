"""Bulk insert on SQLite and MariaDB: the service's endpoint against the driver.

    uv run python bench/bulk_sqlite_mariadb.py [--runs 3]

For each of `database=sqlite` and `database=mysql` (MariaDB on 127.0.0.1:3306,
root, a scratch database), renders a service with default answers, installs
and migrates it, serves it with uvicorn pinned to CPU 0, and times, per run,
10,000 users posted to /api/v1/users/bulk against the same 10,000 rows sent
by the driver's own executemany of one INSERT in one transaction (aiosqlite;
asyncmy, which batches them into multi-row INSERTs): each database's fastest
bulk load that needs no file on the server. Prints rows/s and the ratio per
database. Reported, never asserted: these renders' bulk path is multi-row
INSERTs, not PostgreSQL's COPY.
"""

import argparse
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from run import free_port, render, serve, sh

MARIADB_SERVER = "mysql+asyncmy://root@127.0.0.1:3306"

# Runs in the rendered service's virtualenv (its models, its driver): the
# driver's executemany with the id in the form the column's type stores it.
LOAD = """
import asyncio, json, sys, time, uuid

import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from my_service.config import get_settings
from my_service.models import User

ROWS = 10_000


async def main(url: str, runs: int) -> None:
    engine = create_async_engine(get_settings().database_url)
    id_to_driver = User.__table__.c.id.type.bind_processor(engine.dialect)
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    insert = f"INSERT INTO users (id, email, full_name) VALUES ({mark}, {mark}, {mark})"
    driver, service = [], []
    for run in range(runs):
        rows = [
            (id_to_driver(uuid.uuid4()), f"driver{run}-{i}@bulk.example", "Bulk")
            for i in range(ROWS)
        ]
        async with engine.begin() as connection:
            started = time.perf_counter()
            await connection.exec_driver_sql(insert, rows)
        driver.append(ROWS / (time.perf_counter() - started))
        body = json.dumps(
            [{"email": f"api{run}-{i}@bulk.example", "full_name": "Bulk"}
             for i in range(ROWS)]
        ).encode()
        async with httpx.AsyncClient(timeout=120) as client:
            started = time.perf_counter()
            response = await client.post(
                url + "/api/v1/users/bulk", content=body,
                headers={"Content-Type": "application/json"},
            )
            service.append(ROWS / (time.perf_counter() - started))
        if response.status_code != 201:
            sys.exit(f"bulk insert answered {response.status_code}: {response.text}")
    await engine.dispose()
    print(json.dumps({"driver": driver, "service": service}))


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def measure(scratch: Path, database: str, runs: int) -> dict[str, list[float]]:
    project = scratch / database
    answers: dict[str, object] = {"database": database}
    if database == "mysql":
        name = f"bulk_{os.getpid()}"
        answers["database_url"] = f"{MARIADB_SERVER}/{name}"
        admin = ["mariadb", "-h", "127.0.0.1", "-u", "root", "-e"]
        sh([*admin, f"DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"])
    env = render(project, answers) | {"LOG_LEVEL": "WARNING"}
    try:
        sh([str(project / ".venv/bin/my-service"), "migrate"], cwd=project, env=env)
        port = free_port()
        server = serve([str(project / ".venv/bin/uvicorn"), "my_service.main:app"],
                       env, project, port)  # fmt: skip
        try:
            (project / "load.py").write_text(LOAD)
            output = sh([str(project / ".venv/bin/python"), "load.py",
                         f"http://127.0.0.1:{port}", str(runs)],
                        cwd=project, env=env)  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        if database == "mysql":
            sh([*admin, f"DROP DATABASE IF EXISTS {name}"])
    result: dict[str, list[float]] = json.loads(output)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bulk-"))
    try:
        results = {db: measure(scratch, db, args.runs) for db in ("sqlite", "mysql")}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n10,000 users per run, {args.runs} runs, medians\n")
    print("| database | driver executemany | service's bulk endpoint | ratio |")
    print("|---|---|---|---|")
    for database, runs in results.items():
        ratio = statistics.median(
            s / d for s, d in zip(runs["service"], runs["driver"], strict=True)
        )
        print(
            f"| {'SQLite' if database == 'sqlite' else 'MariaDB'} "
            f"| {statistics.median(runs['driver']):,.0f} rows/s "
            f"| {statistics.median(runs['service']):,.0f} rows/s | {ratio:.2f} |"
        )


if __name__ == "__main__":
    main()
