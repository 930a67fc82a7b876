"""The loyalty engine: stores and staff, programs, the ledger, visits, rewards, tiers."""
