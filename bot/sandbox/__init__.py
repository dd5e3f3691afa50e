"""A loopback stand-in for the X API v2. Imports neither `bot` nor `archive`."""
