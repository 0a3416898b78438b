"""Turnout's Alexa skill: ask-sdk-core handlers over the core services."""
