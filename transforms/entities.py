"""Named entities with spaCy through Beam's RunInference.

Beam ships no spaCy model handler, so :class:`SpacyNerHandler` is one: RunInference batches
documents by their characters (``batch_elements_kwargs``), loads the pipeline once per worker process
and shares it among the process's threads (its ``shared.Shared`` handle), and calls ``nlp.pipe`` on a
batch.
Only the components NER needs run. For ``en_core_web_sm`` the ``ner`` has its own embedding (no
listener on the shared ``tok2vec``), but its transition system never lets an entity cross a sentence
boundary, so it needs boundaries: spaCy's rule-based ``sentencizer`` gives them at a fraction of the
parser's cost (NER takes ~0.6x the CPU time of ``tok2vec, parser, ner``), and on the seeds and the NER
gold of ``bench/ner.py`` the entities are the full pipeline's (``tests/test_entities.py`` checks it).
A text identical to one the worker tagged recently, as a syndicated copy often is once cleaned, takes
that text's entities instead of being tagged again (``entities.reuse_texts``; :func:`find_spans_reusing`).
In a batch with reuse on, the documents first wait on disk in parts by text (:func:`same_text`), so
that identical texts reach one worker, one after another, however many workers share the tagging.

Each configured language's model is one RunInference step, and the steps follow one another: a step
tags the documents in its language and passes the others through. Documents in a language with no
configured model skip NER and say so in ``ner`` (``skipped:language=de``). A document spaCy fails on
lands in ``rejected`` with the stage name, without taking the rest of its batch along (a failure of
Beam's own batch machinery still rejects the whole batch, whatever its documents' languages).

Why steps in a row and not a partition by language whose parts meet again in a Flatten: Beam's local
runner never fuses a Flatten of several inputs, so every document went through the runner process
there (over gRPC with worker processes) and a batch held the whole collection in memory at that point.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from typing import Any, Iterable, Mapping, Sequence

import apache_beam as beam
import orjson
from apache_beam.ml.inference.base import ModelHandler, PredictionResult, RunInference
from cachetools import LRUCache

from transforms.document import Document, Rejection, text_key
from transforms.stage import DOCS, REJECTED

STAGE = "entities"
# A component name that is not in the model package: spaCy's rule-based sentence splitter.
SENTENCIZER = "sentencizer"

# A raw entity as found by the model: (start, end, label), character offsets into doc.text.
Span = tuple[int, int, str]


def find_spans(nlp: Any, texts: Sequence[str]) -> list[list[Span] | Exception]:
    """Entities of each text; a text spaCy fails on gets its exception, the others their spans.

    The batch goes through ``nlp.pipe`` at once; only if that raises is it redone text by text, so
    one bad document costs its batch a retry, not its entities. Both run in a spaCy memory zone: the
    words a batch adds to the vocabulary are dropped after it, where they stayed for the life of the
    worker and grew with every new word of the corpus.
    """
    try:
        with nlp.memory_zone():
            return [[(ent.start_char, ent.end_char, ent.label_) for ent in parsed.ents]
                    for parsed in nlp.pipe(texts, batch_size=max(len(texts), 1))]
    except Exception:  # noqa: BLE001 - isolate the failing text below
        results: list[list[Span] | Exception] = []
        with nlp.memory_zone():
            for text in texts:
                try:
                    results.append([(ent.start_char, ent.end_char, ent.label_) for ent in nlp(text).ents])
                except Exception as error:  # noqa: BLE001 - becomes this document's dead letter
                    results.append(error)
        return results


def alias_patterns(aliases: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """EntityRuler patterns for every labelled name of the alias table (canonical and variants)."""
    return [{"label": entry["label"], "pattern": name}
            for entry in aliases if entry.get("label")
            for name in [entry["canonical"], *entry["variants"]]]


def load_pipeline(name: str, components: Sequence[str], max_chars: int,
                  patterns: Sequence[Mapping[str, str]] = ()) -> Any:
    """An installed spaCy pipeline with only ``components`` enabled (all when empty).

    With ``patterns``, an ``entity_ruler`` after the model adds the alias table's names the model
    missed (en_core_web_sm never tags "BRICS"); it never overrides the model's own entities.
    """
    import spacy  # imported here: workers that never tag do not pay for it

    packaged = [component for component in components if component != SENTENCIZER]
    nlp = spacy.load(name, enable=packaged) if packaged else spacy.load(name)
    if SENTENCIZER in components:
        # spaCy's rule-based splitter, not a package component: sentence boundaries for the ner
        # (which never lets an entity cross one) at a fraction of the parser's cost.
        nlp.add_pipe(SENTENCIZER, before="ner" if "ner" in nlp.pipe_names else None)
    nlp.max_length = max_chars
    if patterns:
        ruler = nlp.add_pipe("entity_ruler", name="alias_ruler", last=True,
                             config={"overwrite_ents": False, "phrase_matcher_attr": "ORTH"})
        ruler.add_patterns(list(patterns))
    return nlp


def same_text(doc: Document) -> int:
    """A number that is the same for documents with the same text: where to send them to be tagged."""
    return int.from_bytes(text_key(doc.text)[:8], "little")


def find_spans_reusing(nlp: Any, texts: Sequence[str], known: LRUCache) -> list[list[Span] | Exception]:
    """:func:`find_spans`, but a text met before (in ``known``, or earlier in ``texts``) is not tagged again.

    A feed carries one wire story many times over, and after cleaning the copies' texts are often
    identical; their entities are the same, since the pipeline reads nothing but the text. ``known``
    maps a text's 128-bit digest to its spans and keeps the most recently used; failures are not kept.
    """
    keys = [text_key(text) for text in texts]
    # Read what is known before adding to it: adding may evict an entry this batch needs.
    spans = {key: known[key] for key in keys if key in known}
    unseen = {key: text for key, text in zip(keys, texts) if key not in spans}
    for key, found in zip(unseen, find_spans(nlp, list(unseen.values()))):
        spans[key] = found
        if not isinstance(found, Exception):
            known[key] = found
    return [spans[key] for key in keys]


def text_weight(text: str) -> int:
    """A text's share of a NER batch: its characters (at least 1, so no batch is unbounded)."""
    return max(len(text), 1)


def batch_weight(doc: Document) -> int:
    """A document's share of a RunInference batch (:func:`text_weight` of its text)."""
    return text_weight(doc.text)


class SpacyNerHandler(ModelHandler[Document, PredictionResult, Any]):
    """RunInference model handler: a batch of Documents in, one PredictionResult per Document out.

    A batch holds at most ``batch_chars`` characters of text (a longer document is a batch alone).
    ``inference`` is the document's list of spans, or the exception spaCy raised on it, or None for a
    document not in ``language`` (None: every document is), which the model does not see. ``reuse``:
    how many distinct texts' spans each worker remembers, so that an identical text is tagged once
    (see :func:`find_spans_reusing`; 0: every text is tagged).
    """

    def __init__(self, model_name: str, components: Sequence[str], batch_chars: int, max_chars: int,
                 patterns: Sequence[Mapping[str, str]] = (), language: str | None = None, reuse: int = 0) -> None:
        # Batches weighed in characters, not documents: the ner's working memory grows with the tokens
        # of a batch, so a count of documents lets a few long ones multiply it (configs/default.yaml
        # gives the figures). Fixed size: a batch pipeline gains nothing from BatchElements' small
        # first batches.
        super().__init__(min_batch_size=batch_chars, max_batch_size=batch_chars, element_size_fn=batch_weight)
        self._model_name = model_name
        self._components = tuple(components)
        self._max_chars = max_chars
        self._patterns = tuple(patterns)
        self._language = language
        # One per RunInference DoFn instance (each unpickles its own handler), so one thread uses it.
        self._known = LRUCache(maxsize=reuse) if reuse else None

    def _tags(self, doc: Document) -> bool:
        return self._language is None or doc.language == self._language

    def load_model(self) -> Any:
        return load_pipeline(self._model_name, self._components, self._max_chars, self._patterns)

    def run_inference(self, batch: Sequence[Document], model: Any,
                      inference_args: dict[str, Any] | None = None) -> Iterable[PredictionResult]:
        tagged = [self._tags(doc) for doc in batch]
        texts = [doc.text for doc, tags in zip(batch, tagged) if tags]
        found = iter(find_spans(model, texts) if self._known is None else find_spans_reusing(model, texts, self._known))
        return [PredictionResult(doc, next(found) if tags else None, self._model_name)
                for doc, tags in zip(batch, tagged)]

    def get_num_bytes(self, batch: Sequence[Document]) -> int:
        """Bytes of the texts the model reads (not of the documents it passes on)."""
        return sum(len(doc.text.encode("utf-8", "surrogatepass")) for doc in batch if self._tags(doc))

    def get_metrics_namespace(self) -> str:
        return f"newsbeam.{STAGE}"


def attach_entities(labels: frozenset[str], result: PredictionResult) -> Document:
    """A copy of the document with the model's entities (kept labels only) and ``ner`` set.

    ``canonical`` starts as the surface text; transforms/canonical.py resolves it afterwards. A document
    the model did not see (another language: ``inference`` None) is returned as it is.
    """
    doc: Document = result.example
    if result.inference is None:
        return doc
    if isinstance(result.inference, Exception):
        raise result.inference
    entities = []
    for start, end, label in result.inference:
        if label not in labels:
            continue
        raw_start, raw_end = doc.raw_span(start, end)
        text = doc.text[start:end]
        entities.append({"text": text, "label": label, "start": start, "end": end,
                         "raw_start": raw_start, "raw_end": raw_end, "canonical": text})
    return dataclasses.replace(doc, entities=entities, ner=result.model_id)


# What ``ner`` starts with on a record no model tagged; the reason follows.
SKIPPED = "skipped:"


def skip_ner(doc: Document, disabled: bool = False) -> Document:
    """A document no model tagged (NER off, or no model for its language): no entities, ``ner`` says why."""
    if doc.ner is not None:
        return doc
    reason = "disabled" if disabled else f"language={doc.language or 'und'}"
    return dataclasses.replace(doc, entities=[], ner=SKIPPED + reason)


def model_tag(model: Mapping[str, Any], max_chars: int, patterns: Sequence[Mapping[str, str]]) -> str:
    """RunInference's shared-model key: the same loaded pipeline only for the same settings."""
    digest = hashlib.sha256(orjson.dumps(list(patterns), option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]
    return f"{STAGE}:{model['name']}:{','.join(model['components'])}:{max_chars}:{digest}"


def dead_letters(failure: tuple[Any, Any]) -> list[Rejection]:
    """RunInference's dead letters as Rejections: a failed batch stands for each of its documents."""
    element, error = failure
    # Beam's dead letter is (element, (exception type, repr, traceback lines)).
    detail = str(error[1] if isinstance(error, tuple) and len(error) > 1 else error)[:500]
    items = element if isinstance(element, (list, tuple)) else [element]
    docs = [item.example if isinstance(item, PredictionResult) else item for item in items]
    return [Rejection(doc.source, STAGE, "exception", detail) for doc in docs if isinstance(doc, Document)]


class TagEntities(beam.PTransform):
    """Documents through each configured language's spaCy pipeline via RunInference; ``[DOCS]``/``[REJECTED]``."""

    def __init__(self, config: Mapping[str, Any], group: beam.PTransform | None = None) -> None:
        """``group``: where a batch's documents wait to be grouped by :func:`same_text` before tagging
        (a keyed :class:`transforms.spill.SpillDocuments`); used when texts are reused."""
        super().__init__()
        self._settings = config[STAGE]
        self._patterns = alias_patterns(config["files"][self._settings["canonical"]["aliases_file"]]["aliases"])
        self._group = group

    def expand(self, docs):
        settings = self._settings
        languages = sorted(settings["models"]) if settings["enabled"] else []
        if languages and settings["reuse_texts"] and self._group is not None:
            # Each worker remembers the texts it tagged: without this, every worker would meet (and tag)
            # its own share of a story's identical copies.
            docs = docs | "GroupIdenticalTexts" >> self._group
        labels = frozenset(settings["labels"])
        rejected = []
        for language in languages:
            model = settings["models"][language]
            patterns = self._patterns if language in settings["alias_patterns"] else []
            handler = SpacyNerHandler(model["name"], model["components"], settings["batch_chars"],
                                      settings["max_chars"], patterns, language,
                                      settings["reuse_texts"]).with_postprocess_fn(
                functools.partial(attach_entities, labels))
            docs, dlq = docs | f"Ner[{language}]" >> RunInference(
                handler, model_identifier=model_tag(model, settings["max_chars"], patterns)).with_exception_handling()
            failures = [dlq.failed_inferences, *dlq.failed_preprocessing, *dlq.failed_postprocessing]
            rejected.append(failures | f"Failures[{language}]" >> beam.Flatten()
                            | f"Reject[{language}]" >> beam.FlatMap(dead_letters))
        return {DOCS: docs | "SkipNer" >> beam.Map(skip_ner, not settings["enabled"]),
                REJECTED: tuple(rejected) | "Rejected" >> beam.Flatten(pipeline=docs.pipeline)}
