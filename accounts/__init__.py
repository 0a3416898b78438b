"""Cognito's triggers for the stack's user pool: people's accounts, named by their handles."""
