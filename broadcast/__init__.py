"""Campaigns, the scheduler and the delivery engine (the marketing issue builds them)."""
