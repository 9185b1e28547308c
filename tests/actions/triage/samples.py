"""A small headache protocol and a fallback, written for the tests (not shipped)."""

from __future__ import annotations

PROTOCOL = """\
    id: headache
    title: Headache
    version: 3
    kb_query: headache
    triggers: [headache, head (hurts|aches)]
    base_level: self_care
    unresolved_level: urgent
    questions:
      - id: stiff_neck
        ask: Is your neck stiff?
        detect: [stiff neck, neck is stiff, neck stiffness]
      - id: worst_ever
        ask: Is it the worst headache you have ever had?
        detect: ["worst (headache )?ever", thunderclap]
      - id: vomiting
        ask: Have you been sick?
        detect: [vomit\\w*, been sick]
      - id: fever_q
        ask: Do you have a high temperature?
        detect: [fever, high temperature]
    rules:
      - id: HT01
        if: {all: [{yes_to: stiff_neck}, {yes_to: fever_q}]}
        level: emergency_ambulance
        reason: a headache with a stiff neck and a fever
        source: nhs
      - id: HT02
        if: {yes_to: worst_ever}
        level: emergency
        reason: the worst headache you have ever had
        source: nhs
      - id: HT03
        if: {yes_to: vomiting}
        level: routine
        reason: a headache with being sick
        source: nhs
      - id: HT04
        if: {vital: temperature_c, gte: 39}
        level: urgent
        reason: a temperature of 39 or more
        source: nhs
      - id: HT05
        if: {all: [{age_gte: 50}, {duration_days_gte: 1}]}
        level: routine
        reason: a new headache after 50
        source: nhs
    sources:
      nhs: {title: NHS - Headaches, url: "https://www.nhs.uk/conditions/headaches/"}
"""
GENERAL = """\
    id: general
    title: Something else
    fallback: true
    base_level: routine
    unresolved_level: urgent
    questions:
      - id: worse_fast
        ask: Is it getting worse quickly?
        detect: [getting worse (quickly|fast)]
    rules:
      - id: GE01
        if: {yes_to: worse_fast}
        level: urgent
        reason: it is getting worse quickly
        source: nhs
    sources:
      nhs: {title: NHS 111, url: "https://111.nhs.uk/"}
"""
