"""Triage: from the patient's own words to one of five care levels, asking what a nurse would ask.

``findings`` reads the conversation (complaints, vitals, age, pregnancy, risk factors, answers);
``protocols`` loads the reviewable YAML protocols; ``engine`` decides the level and the next
question. Never a diagnosis; red flags stay the floor.
"""
