"""The IOB/CoNLL corpus reader: sentences, and errors that name the file and line."""

import pytest

from training.ehr.conll import CorpusError, read_iob


def test_corpus_errors_name_file_and_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("Aspirin\tB-Chemical\n\nfoo\tB-Drug\n")
    with pytest.raises(CorpusError, match=r"bad.tsv:3: unknown tag 'B-Drug'"):
        read_iob(path)
    path.write_text("no tab here\n")
    with pytest.raises(CorpusError, match=r"bad.tsv:1: expected"):
        read_iob(path)


def test_corpus_sentences(tmp_path):
    path = tmp_path / "ok.tsv"
    path.write_text("Aspirin\tB-Chemical\ninduced\tO\n\nasthma\tB-Disease\n")
    sentences = read_iob(path)
    assert [s.tokens for s in sentences] == [("Aspirin", "induced"), ("asthma",)]
