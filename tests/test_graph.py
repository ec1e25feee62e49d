"""The graph as assembled: which steps a configuration puts in it, and what building it imports."""

from __future__ import annotations

import copy
import subprocess
import sys
import textwrap

from pipeline.config import load_config
from pipeline.graph import build
from tests.conftest import ROOT, local_pipeline


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


def test_graph_building_leaves_the_models_libraries_to_the_workers(tmp_path):
    # With worker processes, the runner's own process only builds the graph: spaCy (0.5 s to import)
    # and datasketch (0.3 s, with SciPy) are imported by the steps that use them, in the workers.
    code = textwrap.dedent(f"""
        import sys
        from pipeline.cli import main
        from pipeline.config import load_config
        from pipeline.graph import build
        from tests.conftest import local_pipeline
        build(local_pipeline(), {str(tmp_path / "*.txt")!r}, {str(tmp_path / "out")!r}, load_config(), {{}})
        print(sorted(name for name in ("spacy", "thinc", "datasketch", "scipy") if name in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
