"""Scheduled work and outreach: the deployment's one scheduler, its jobs (the daily
loyalty upkeep) and their recorded runs; campaigns and the delivery engine come with the
marketing issue."""
