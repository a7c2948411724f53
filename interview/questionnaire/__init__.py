"""The interview: one UI-free state machine and its terminal and headless adapters."""
