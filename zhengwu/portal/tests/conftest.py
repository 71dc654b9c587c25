"""Fixtures of the portal's site-cluster tests (a published tree of their own, a small cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zhengwu.portal.tests.factories import Cluster, build_cluster
from zhengwu.testing.cast import Cast


@pytest.fixture
def publish_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "published"
    settings.PUBLISH_ROOT = root
    return root


@pytest.fixture
def cluster(cast: Cast, publish_root: Path) -> Cluster:
    return build_cluster(cast)
