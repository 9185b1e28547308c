"""Symptom intake: parse the patient's answers and pick safe, general next steps."""
