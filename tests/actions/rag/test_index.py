"""Index builds: incremental by content hash, atomic replacement, clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from actions.rag import index as index_module
from actions.rag.documents import KBFormatError
from actions.rag.index import IndexConfig, KnowledgeIndex, build_index, current_version
from actions.rag.service import IndexHolder

from .conftest import write_doc, write_kb


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return write_kb(tmp_path / "knowledge")


def test_build_writes_a_loadable_version_with_qids(built_kb: tuple[Path, Path]) -> None:
    _, root = built_kb
    index = KnowledgeIndex.load_current(root)
    assert len(index) == 6
    assert {p.qid for p in index.passages} >= {"glaucoma#what-is-glaucoma", "gout#what-is-gout"}
    manifest = json.loads((index.directory / "manifest.json").read_text())
    assert manifest["kind"] == "flat" and manifest["passages"] == 6
    assert sorted(manifest["files"]) == ["asthma.md", "glaucoma.md", "gout.md"]


def test_rebuild_without_changes_embeds_nothing(kb: Path, tmp_path: Path, embedder) -> None:
    first = build_index(kb, tmp_path / "index", embedder=embedder, progress=False)
    again = build_index(kb, tmp_path / "index", embedder=embedder, progress=False)
    assert first.embedded_files == 3
    assert again.unchanged and again.version == first.version


def test_editing_one_file_reembeds_only_that_file(kb: Path, tmp_path: Path, embedder) -> None:
    build_index(kb, tmp_path / "index", embedder=embedder, progress=False)
    write_doc(kb, "gout", "Gout", "gouty arthritis", {"What is gout?": "Gout hurts the big toe."})
    report = build_index(kb, tmp_path / "index", embedder=embedder, progress=False)
    assert (report.embedded_files, report.embedded_passages) == (1, 1)
    index = KnowledgeIndex.load_current(tmp_path / "index")
    texts = {p.qid: p.text for p in index.passages}
    assert texts["gout#what-is-gout"] == "Gout hurts the big toe."
    assert "gout#what-can-i-do-about-gout" not in texts
    assert "glaucoma#what-is-glaucoma" in texts  # reused, still searchable
    hits = index.dense_search(embedder.encode(["optic nerve damage in the eye"])[0], 1)
    assert index.passages[hits[0][0]].doc_id == "glaucoma"


def test_deleting_a_file_removes_its_passages(kb: Path, tmp_path: Path, embedder) -> None:
    build_index(kb, tmp_path / "index", embedder=embedder, progress=False)
    (kb / "asthma.md").unlink()
    report = build_index(kb, tmp_path / "index", embedder=embedder, progress=False)
    assert report.embedded_files == 0 and report.passages == 4
    index = KnowledgeIndex.load_current(tmp_path / "index")
    assert all(p.doc_id != "asthma" for p in index.passages)


def test_a_crash_mid_build_leaves_the_old_index_serving(
    kb: Path, tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "index"
    build_index(kb, root, embedder=embedder, progress=False)
    before = current_version(root)
    write_doc(kb, "gout", "Gout", "", {"What is gout?": "Changed text about gout."})

    def crash(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(index_module, "_bm25", crash)
    with pytest.raises(OSError):
        build_index(kb, root, embedder=embedder, progress=False)
    assert current_version(root) == before
    assert len(KnowledgeIndex.load_current(root)) == 6


def test_duplicate_ids_stop_the_build_and_name_both_files(
    kb: Path, tmp_path: Path, embedder
) -> None:
    root = tmp_path / "index"
    build_index(kb, root, embedder=embedder, progress=False)
    before = current_version(root)
    copy = kb / "sub"
    copy.mkdir()
    shutil.copy(kb / "gout.md", copy / "gout-copy.md")
    with pytest.raises(KBFormatError) as error:
        build_index(kb, root, embedder=embedder, progress=False)
    assert "duplicate id 'gout'" in str(error.value.issues[0])
    assert current_version(root) == before


def test_changing_chunk_settings_reembeds_everything(kb: Path, tmp_path: Path, embedder) -> None:
    root = tmp_path / "index"
    build_index(kb, root, embedder=embedder, progress=False)
    report = build_index(
        kb, root, config=IndexConfig(include_headings=False), embedder=embedder, progress=False
    )
    assert report.embedded_files == 3
    assert KnowledgeIndex.load_current(root).include_headings is False


def test_old_versions_are_pruned(kb: Path, tmp_path: Path, embedder) -> None:
    root = tmp_path / "index"
    for n in range(4):
        write_doc(kb, "gout", "Gout", "", {"What is gout?": f"Gout, edit {n}."})
        build_index(kb, root, embedder=embedder, progress=False)
    versions = [p for p in root.iterdir() if p.is_dir() and p.name.startswith("v")]
    assert len(versions) == 2 and current_version(root) in {v.name for v in versions}


def test_hot_reload_swaps_in_a_new_version_and_skips_a_broken_one(
    kb: Path, tmp_path: Path, embedder
) -> None:
    root = tmp_path / "index"
    build_index(kb, root, embedder=embedder, progress=False)
    holder = IndexHolder(root, interval=0.0)
    first = holder.get()
    write_doc(kb, "gout", "Gout", "", {"What is gout?": "Gout, second edition."})
    build_index(kb, root, embedder=embedder, progress=False)
    second = holder.get()
    assert second.version != first.version
    write_doc(kb, "gout", "Gout", "", {"What is gout?": "Gout, third edition."})
    build_index(kb, root, embedder=embedder, progress=False)
    (root / current_version(root) / "dense.faiss").write_bytes(b"not a faiss index")
    assert holder.get() is second  # the broken version is refused, the old one keeps serving


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(index_module.IndexError_, match="healthbot kb build"):
        KnowledgeIndex.load_current(tmp_path)
