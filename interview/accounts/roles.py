"""The roles an account can hold (contract §11), apart from the store so that the command
line can offer them in `pnman users add --role` without importing SQLite and argon2."""

ROLES = ("diagnostician", "auditor", "admin")
DIAGNOSTICIAN, AUDITOR, ADMIN = ROLES
