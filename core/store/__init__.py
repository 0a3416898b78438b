"""Core store: domain values <-> the table's items, one module per thing stored; every invariant is a condition
DynamoDB enforces (core.store.transactions runs the transactions, core.rules decides what needs no table)."""
