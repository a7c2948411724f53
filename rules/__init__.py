"""durable-rules rulesets, generated from the knowledge base (see rules/compile.py)."""
