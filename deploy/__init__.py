"""Deployment: builds the Lambda artifacts template.yaml names (python -m deploy.package)."""
