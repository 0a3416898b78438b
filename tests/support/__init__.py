"""Helpers every test tier shares: the API client, the template reader, the stream, the clock, ports, the stack."""
