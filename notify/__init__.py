"""Notify edge: the table's stream in, notices out by SNS, to the person's buttons, and kept for the skill and API."""
