"""Find every detector by discovery: the catalog packages, extra rule folders, and the
``chainwatch.detectors`` entry-point group for third-party packs. A duplicate id is an error.

Layout: ``detectors/<family>/<name>.py`` holds one Detector class with id ``<family>.<name>``;
``detectors/<family>/<name>.yml`` holds one rule with the same id convention.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import pkgutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from detectors.base import CloseDetector, Detector, EventDetector, StatefulDetector
from detectors.rules import RuleDetector, RuleError, load_rule_file
from schemas.errors import ChainwatchError

ENTRY_POINT_GROUP = "chainwatch.detectors"
CATALOG_ROOT = Path(__file__).resolve().parent
_ENGINE_MODULES = {
    *("base", "context", "engine", "expr", "registry", "rules", "cases", "scaffold", "helpers", "sinks"),
}
RULE_SUFFIXES = (".yml", ".yaml")
# Packages of detectors/ that are not catalog families: the models need a model file, so the engine's
# builder adds them when one is configured (detectors.models.model_detectors).
_NOT_FAMILIES = {"models", "identity", "sigma_rules", "capabilities", "provenance"}


class DetectorLoadError(ChainwatchError, ValueError):
    """A detector that cannot be registered (bad id, duplicate, broken rule)."""


def _module_detectors(module: ModuleType) -> list[type[Detector]]:
    found = []
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if (
            issubclass(obj, Detector)
            and obj.__module__ == module.__name__
            and obj not in (Detector, EventDetector, StatefulDetector, CloseDetector)
            and not inspect.isabstract(obj)
            and getattr(obj, "id", None)
        ):
            found.append(obj)
    return found


def _rule_files(root: Path) -> Iterable[tuple[Path, str]]:
    for path in sorted(root.rglob("*")):
        # data/ folders hold tables that detectors read (detectors/cloud/data/sensitive_apis.yml), not rules
        skipped = "__pycache__" in path.parts or "data" in path.relative_to(root).parts
        if path.suffix in RULE_SUFFIXES and path.is_file() and not skipped:
            relative = path.relative_to(root).with_suffix("")
            yield path, ".".join(relative.parts)


def rule_tag(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


@dataclass
class Catalog:
    detectors: list[Detector]
    errors: list[str] = field(default_factory=list)
    rule_files: dict[str, float] = field(default_factory=dict)  # path -> mtime, for reloads

    def by_id(self, detector_id: str) -> Detector:
        for detector in self.detectors:
            if detector.id == detector_id:
                return detector
        raise KeyError(f"no detector '{detector_id}'; `chainwatch detectors list` shows the ids")


def load_catalog(
    extra_rule_dirs: Iterable[Path] = (), *, entry_point_packs: bool = True, strict: bool = True
) -> Catalog:
    """Every detector. ``strict``: a broken rule file raises; otherwise it is reported in errors."""
    classes: list[type[Detector]] = []
    errors: list[str] = []
    for info in pkgutil.iter_modules([str(CATALOG_ROOT)]):
        if info.ispkg and not info.name.startswith("_") and info.name not in _NOT_FAMILIES:
            sub = importlib.import_module(f"detectors.{info.name}")
            classes.extend(_family(sub, info.name))
    mtimes: dict[str, float] = {}
    roots = [CATALOG_ROOT, *[Path(d) for d in extra_rule_dirs]]
    for root in roots:
        for path, rule_id in _rule_files(root):
            mtimes[str(path)] = path.stat().st_mtime
            try:
                classes.append(load_rule_file(path, expected_id=rule_id))
            except RuleError as exc:
                if strict:
                    raise
                errors.append(str(exc))
    if entry_point_packs:
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            loaded = entry.load()
            if isinstance(loaded, ModuleType):
                classes.extend(_family(loaded, None))
                if loaded.__file__:
                    for path, rule_id in _rule_files(Path(loaded.__file__).parent):
                        classes.append(load_rule_file(path, expected_id=rule_id))
            elif inspect.isclass(loaded) and issubclass(loaded, Detector):
                classes.append(loaded)
            else:
                raise DetectorLoadError(
                    f"entry point {entry.name} = {entry.value}: not a detector class or module"
                )
    seen: dict[str, str] = {}
    detectors: list[Detector] = []
    for cls in classes:
        where = cls.source_file or cls.__module__
        if cls.id in seen:
            raise DetectorLoadError(f"duplicate detector id '{cls.id}': {seen[cls.id]} and {where}")
        seen[cls.id] = where
        detectors.append(cls())
    detectors.sort(key=lambda d: d.id)
    return Catalog(detectors, errors, mtimes)


def _family(package: ModuleType, family: str | None) -> list[type[Detector]]:
    """Python detectors of one family package; ids are ``<family>.<module>``."""
    classes: list[type[Detector]] = []
    root = Path(package.__file__ or "").parent
    family_name = family or package.__name__.rsplit(".", 1)[-1]
    for info in pkgutil.iter_modules([str(root)]):
        if info.ispkg or info.name.startswith("_") or info.name in _ENGINE_MODULES:
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for cls in _module_detectors(module):
            expected = f"{family_name}.{info.name}"
            if cls.id != expected:
                raise DetectorLoadError(
                    f"{module.__file__}: detector id '{cls.id}' must be '{expected}' "
                    "(ids are <family>.<file name>)"
                )
            cls.source_file = str(module.__file__)
            classes.append(cls)
    return classes


def kind_of(detector: Detector) -> str:
    sigma = getattr(detector, "sigma", None)
    if isinstance(sigma, dict) and sigma:
        return f"sigma:{getattr(detector, 'correlation_type', 'rule')}"
    if isinstance(detector, RuleDetector):
        return f"rule:{detector.rule_type}"
    for kind, name in ((EventDetector, "event"), (StatefulDetector, "stateful"), (CloseDetector, "on_close")):
        if isinstance(detector, kind):
            return name
    return "other"


class RuleReloader:
    """Picks up changed or new rule files without a restart; a broken file keeps the previous set."""

    def __init__(self, extra_rule_dirs: Iterable[Path] = ()) -> None:
        self.dirs = [Path(d) for d in extra_rule_dirs]
        self.catalog = load_catalog(self.dirs)
        self.last_errors: list[str] = []

    def _current_mtimes(self) -> dict[str, float]:
        mtimes = {}
        for root in [CATALOG_ROOT, *self.dirs]:
            for path, _ in _rule_files(root):
                mtimes[str(path)] = path.stat().st_mtime
        return mtimes

    def poll(self) -> bool:
        """True when a new rule set was loaded. Errors of a rejected set are in ``last_errors``."""
        if self._current_mtimes() == self.catalog.rule_files:
            return False
        try:
            fresh = load_catalog(self.dirs)
        except (RuleError, DetectorLoadError) as exc:
            self.last_errors = [str(exc)]
            # Remember the broken mtimes so the same error is not re-reported on every poll.
            self.catalog.rule_files = self._current_mtimes()
            return False
        self.catalog = fresh
        self.last_errors = []
        return True
