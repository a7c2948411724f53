"""The guide's knowledge as data (YAML); loaded and checked by engine.knowledge."""
