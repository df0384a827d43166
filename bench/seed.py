"""Seed the benchmark's database: 10,000 users and 50,000 orders, by COPY.

    python bench/seed.py DSN IDS_FILE [DELETABLE_IDS_FILE DELETABLE]

Runs in the rendered service's virtualenv (it has asyncpg); writes 2,000 of
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


async def main(
    dsn: str, ids_file: str, deletable_ids_file: str | None, deletable: int
) -> None:
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
    with open(ids_file, "w") as out:
        out.write("\n".join(str(user[0]) for user in users[:2_000]))
    if deletable_ids_file is not None:
        with open(deletable_ids_file, "w") as out:
            out.write("\n".join(str(user[0]) for user in spare))


if __name__ == "__main__":
    deletable_ids_file = sys.argv[3] if len(sys.argv) > 3 else None
    deletable = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    asyncio.run(main(sys.argv[1], sys.argv[2], deletable_ids_file, deletable))
