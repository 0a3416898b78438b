"""The JSON API entry point: API Gateway HTTP API (payload 2.0) events in, core services called, JSON out."""
