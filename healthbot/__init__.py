"""The core every process shares: settings, the channel/intent contract, safety, the stores.

Light on purpose (no torch, transformers, faiss or spaCy; importable from Rasa's Python 3.10 and
the action server's 3.11); docs/ARCHITECTURE.md says what may import what.
"""
