"""Knowledge base and grounded answers: documents, index, retrieval, generators, grounding."""
