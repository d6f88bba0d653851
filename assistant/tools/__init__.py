"""Measuring: bench (speed, memory, scale) and loadtest (the page, the API, replicas behind nginx)."""
