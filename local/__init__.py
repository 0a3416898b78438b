"""The local stack: the whole of Turnout on one machine, with no AWS account."""
