"""The EHR analyzer: BERT NER + ConText + FHIR + labs, explained in plain words."""
