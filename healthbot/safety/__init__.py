"""Safety services: emergency red flags (import-free so the Rasa process can load them)."""
