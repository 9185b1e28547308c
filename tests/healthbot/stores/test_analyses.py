import os
import time

from healthbot.stores.analyses import LocalAnalysisStore


def test_save_read_and_forget(tmp_path):
    store = LocalAnalysisStore(tmp_path)
    first = store.save("alice", {"findings": [1]})
    store.save("alice", {"findings": [2]})
    other = store.save("bob", {"findings": [3]})
    assert len(first) == 22 and first != other
    assert store.read("alice", first) == {"findings": [1]}
    assert store.read("bob", first) is None  # another conversation's id opens nothing
    mode = os.stat(next(tmp_path.glob("*/*.json"))).st_mode & 0o777
    assert mode == 0o600
    assert store.delete_owner("alice") == 2
    assert store.read("alice", first) is None
    assert store.read("bob", other) == {"findings": [3]}
    assert store.delete_owner("alice") == 0


def test_ids_are_checked_before_any_path_is_built(tmp_path):
    store = LocalAnalysisStore(tmp_path)
    assert store.read("alice", "../../etc/passwd") is None
    assert store.read("alice", "") is None


def test_retention(tmp_path):
    store = LocalAnalysisStore(tmp_path, retention_days=1)
    kept = store.save("alice", {})
    old = store.save("alice", {})
    path = next(p for p in tmp_path.glob("*/*.json") if p.stem == old)
    two_days_ago = time.time() - 2 * 86_400
    os.utime(path, (two_days_ago, two_days_ago))
    assert store.read("alice", old) is None
    assert store.purge_expired() == 1
    assert store.read("alice", kept) == {}
