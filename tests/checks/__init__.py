"""Checks of what surrounds the code: the template, packaging, fresh interpreters, the local stack's servers, docs."""
