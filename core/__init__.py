"""Shared foundations: settings, database, errors, clock, signing, translations."""
