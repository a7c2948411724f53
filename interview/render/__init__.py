"""Renderers: text, Markdown, HTML, graph pictures, and the one localisation step."""
