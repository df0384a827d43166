"""Seed the benchmark's database: 10,000 users and 50,000 orders, by COPY.

    python bench/seed.py DSN IDS_FILE [DELETABLE_IDS_FILE DELETABLE]

Run by bench/run.py, in this project's virtualenv (it has asyncpg); writes 2,000 of
the user ids to IDS_FILE for wrk's requests, and the ids of DELETABLE more
users, without orders, to DELETABLE_IDS_FILE for DELETE requests.
"""

import asyncio
import random
import sys
import uuid

import asyncpg

USERS = 10_000
ORDERS = 50_000


async def seed(dsn: str, deletable: int) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Insert the rows; the ids of the users with orders, and of the spare ones."""
    connection = await asyncpg.connect(dsn)
    users = [
        (uuid.uuid4(), f"seed{i}@bench.example", f"Seed {i}") for i in range(USERS)
    ]
    await connection.copy_records_to_table(
        "users", records=users, columns=["id", "email", "full_name"]
    )
    orders = [
        (uuid.uuid4(), users[i % USERS][0], random.randint(0, 100_000))
        for i in range(ORDERS)
    ]
    await connection.copy_records_to_table(
        "orders", records=orders, columns=["id", "user_id", "total"]
    )
    spare = [
        (uuid.uuid4(), f"spare{i}@bench.example", "Spare") for i in range(deletable)
    ]
    await connection.copy_records_to_table(
        "users", records=spare, columns=["id", "email", "full_name"]
    )
    await connection.execute("ANALYZE")
    await connection.close()
    return [user[0] for user in users], [user[0] for user in spare]


def write_ids(path: str, ids: list[uuid.UUID]) -> None:
    with open(path, "w") as out:
        out.write("\n".join(str(id_) for id_ in ids))


if __name__ == "__main__":
    dsn, ids_file = sys.argv[1], sys.argv[2]
    deletable_ids_file = sys.argv[3] if len(sys.argv) > 3 else None
    deletable = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    users, spare = asyncio.run(seed(dsn, deletable))
    write_ids(ids_file, users[:2_000])
    if deletable_ids_file is not None:
        write_ids(deletable_ids_file, spare)
