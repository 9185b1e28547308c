"""BERT NER fine-tuning and BC5CDR evaluation; never imported by the action server."""
