"""The graph as assembled: which steps a configuration puts in it."""

from __future__ import annotations

import copy

from pipeline.config import load_config
from pipeline.graph import build
from tests.conftest import local_pipeline


def _step_names(config: dict, tmp_path) -> set[str]:
    root = local_pipeline()
    build(root, str(tmp_path / "in" / "*.txt"), str(tmp_path / "out"), config, {"newsbeam": "test"})
    return {transform.unique_name.split("/")[0] for transform in root.to_runner_api().components.transforms.values()}


def test_graph_without_ner_leaves_out_the_steps_that_only_serve_entities(tmp_path):
    config = load_config()
    off = copy.deepcopy(config)
    off["entities"]["enabled"] = False
    entity_only = {"CanonicalizeEntities", "ResolveNameVariants"}
    assert entity_only <= _step_names(config, tmp_path)
    steps = _step_names(off, tmp_path)
    assert not entity_only & steps
    assert {"TagEntities", "RelateDocuments", "Write"} <= steps
