"""Accounts and roles of `pnman serve` (contract §11): who may see many companies."""
