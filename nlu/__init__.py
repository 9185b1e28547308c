"""Rasa-side code and data (runs in .venv-rasa, Python 3.10)."""
