"""Rasa-server plugins of the project: the REST channel guard and the privacy tracker store."""
