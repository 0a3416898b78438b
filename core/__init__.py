"""Turnout's core domain: events, signups, people and devices on one DynamoDB table."""
