"""Pydantic models: the event, the settings, step payloads, the ledger."""
