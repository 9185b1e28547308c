"""The one place that builds the action server's services, once each, from the settings.

Actions get everything they need from ``get_services()``; no action imports another action to
reach a service. Models load on first use, or in the background when the server starts with
``warm_up()`` (``actions/server.py``), never at import. Every store that keeps a patient's data
is listed in ``owned_stores``, so "forget me" is one call, ``forget(sender)``, that reaches all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from healthbot.settings import Settings, get_settings

if TYPE_CHECKING:
    from actions.ehr.analyzer import EhrAnalyzer
    from actions.ehr.summary import ConditionLinker
    from actions.photo.service import PhotoChecker
    from actions.rag.service import AnswerService
    from actions.triage.engine import TriageEngine
    from healthbot.stores import OwnedStore
    from healthbot.stores.analyses import AnalysisStore
    from healthbot.stores.photo_history import PhotoHistory
    from healthbot.stores.uploads import UploadStore

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Services:
    """Each service built on first use (thread-safe: actions run in worker threads)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._built: dict[str, Any] = {}
        self._lock = threading.RLock()
        # One record analysis at a time: one already uses every core.
        self.ehr_lock = threading.Lock()

    def _once(self, name: str, build: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._built:
                self._built[name] = build()
            return self._built[name]

    def override(self, **built: Any) -> Services:
        """Use these objects instead of building them (tests, or an application embedding the
        actions with its own stores); names are the properties' names."""
        unknown = set(built) - SERVICE_NAMES
        if unknown:
            raise ValueError(f"unknown services: {', '.join(sorted(unknown))}")
        with self._lock:
            self._built.update(built)
        return self

    # --- models ----------------------------------------------------------------------------

    @property
    def answers(self) -> AnswerService:
        """Knowledge-base answers (encoder + index, hot-reloaded)."""

        def build() -> AnswerService:
            from actions.rag.service import AnswerService

            return AnswerService(self.settings.kb, self.settings.answers)

        return self._once("answers", build)

    @property
    def photo_checker(self) -> PhotoChecker:
        """The quality gate and the wound CNN."""

        def build() -> PhotoChecker:
            return _photo_checker(self.settings.photo.model_dir, self.settings.photo.device)

        return self._once("photo_checker", build)

    @property
    def ehr_analyzer(self) -> EhrAnalyzer:
        """The record analyzer (BERT NER, ConText, labs)."""

        def build() -> EhrAnalyzer:
            ehr = self.settings.ehr
            return _ehr_analyzer(
                ehr.model_dir, ehr.device, ehr.batch_size, ehr.backend, ehr.cache_dir
            )

        return self._once("ehr_analyzer", build)

    @property
    def condition_linker(self) -> ConditionLinker | None:
        """Conditions link to knowledge-base pages when that is switched on."""

        def build() -> ConditionLinker | None:
            if not self.settings.ehr.link_kb:
                return None
            from actions.ehr.links import KbConditionLinker

            return KbConditionLinker(self.answers)

        return self._once("condition_linker", build)

    @property
    def triage(self) -> TriageEngine:
        """The triage protocols and the findings reader (checked when loaded)."""

        def build() -> TriageEngine:
            from actions.triage.engine import TriageEngine

            return TriageEngine.load(self.settings.triage.protocols_dir.resolve())

        return self._once("triage", build)

    # --- stores ----------------------------------------------------------------------------

    @property
    def uploads(self) -> UploadStore:
        """The upload store the edge writes; read here by id."""

        def build() -> UploadStore:
            from healthbot.stores.uploads import open_store

            return open_store(self.settings.uploads)

        return self._once("uploads", build)

    @property
    def photo_history(self) -> PhotoHistory:
        """Wound sizes per sender, for the trend."""

        def build() -> PhotoHistory:
            from healthbot.stores.photo_history import PhotoHistory

            photo = self.settings.photo
            return PhotoHistory(photo.history_db, photo.history_retention_days)

        return self._once("photo_history", build)

    @property
    def analyses(self) -> AnalysisStore:
        """The clinic's JSON of each record analysis."""

        def build() -> AnalysisStore:
            from healthbot.stores.analyses import open_analysis_store

            return open_analysis_store(self.settings.ehr)

        return self._once("analyses", build)

    @property
    def triage_records(self) -> AnalysisStore:
        """The clinic's triage record of each triage (same store kind as record analyses)."""

        def build() -> AnalysisStore:
            from healthbot.stores.analyses import open_triage_store

            return open_triage_store(self.settings.triage)

        return self._once("triage_records", build)

    def owned_stores(self) -> dict[str, OwnedStore]:
        """Every store holding a patient's data, by name: what "forget me" must reach."""
        return {
            "uploads": self.uploads,
            "photo history": self.photo_history,
            "record analyses": self.analyses,
            "triage records": self.triage_records,
        }

    def forget(self, sender: str) -> dict[str, int]:
        """Erase ``sender``'s data from every store; one failing store does not stop the rest
        (the tracker store erases the conversation itself, in Rasa)."""
        removed: dict[str, int] = {}
        for name, store in self.owned_stores().items():
            try:
                removed[name] = store.delete_owner(sender)
            except Exception as error:  # sqlite3 / OS errors: forget me must still answer
                logger.error("could not delete %s: %s", name, type(error).__name__)
                removed[name] = -1
        return removed

    # --- start-up --------------------------------------------------------------------------

    def warm_up(self) -> list[threading.Thread]:
        """Load the models in the background so the first patient does not wait; a failure is
        logged and the model loads again on first use."""
        jobs: dict[str, Callable[[], object]] = {
            "kb": lambda: self.answers.warm_up(),
            "photo": lambda: self.photo_checker.warm_up(),
            "ehr": lambda: self.ehr_analyzer.warm_up(),
            "triage": lambda: self.triage.assess(["warm up: chest pain"]),
        }
        threads = [
            threading.Thread(target=_guarded, args=(name, job), name=f"{name}-warm-up", daemon=True)
            for name, job in jobs.items()
        ]
        for thread in threads:
            thread.start()
        return threads


def _guarded(name: str, job: Callable[[], object]) -> None:
    try:
        job()
    except Exception:  # warm-up must never take the action server down
        logger.exception("%s warm-up failed; it will retry on first use", name)


SERVICE_NAMES = frozenset(
    {"answers", "photo_checker", "ehr_analyzer", "condition_linker", "uploads", "photo_history",
     "analyses", "triage", "triage_records"}
)  # fmt: skip


# Models are read-only and keyed by their files: two Services with the same model settings (the
# CLI beside the server's, or one per test) share one loaded copy instead of loading it twice.
@lru_cache(maxsize=2)
def _photo_checker(model_dir: Path, device: str) -> PhotoChecker:
    from actions.photo.service import PhotoChecker

    return PhotoChecker(model_dir, device)


@lru_cache(maxsize=2)
def _ehr_analyzer(
    model_dir: Path, device: str, batch_size: int, backend: str, cache_dir: Path
) -> EhrAnalyzer:
    from actions.ehr.analyzer import EhrAnalyzer

    return EhrAnalyzer(model_dir, device, batch_size, backend, cache_dir)


_current: Services | None = None
_current_lock = threading.Lock()


def get_services() -> Services:
    """The process-wide services, built from the settings on first use."""
    global _current
    with _current_lock:
        if _current is None:
            _current = Services(get_settings())
        return _current


def set_services(services: Services | None) -> None:
    """Replace the process-wide services (tests); None builds them afresh on next use."""
    global _current
    with _current_lock:
        _current = services
