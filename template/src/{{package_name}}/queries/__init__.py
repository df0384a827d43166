"""Read-side queries: GET responses built from Core rows, not ORM entities."""
