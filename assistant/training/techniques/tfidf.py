"""tfidf: words (1-2) and characters (2-5, within words) weighted by TF-IDF, then a logistic
regression: the classical baseline a fine-tuned model has to beat. No neural network at all;
stored as vocabularies (JSON) and arrays, never pickled.

It has no encoder, so the embedding drift audits compare is its probability vector."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from assistant.training.techniques import Fitted, Job, Progress, Scores
from assistant.training.techniques.base import Drifting, softmax
from assistant.training.techniques.probe import logistic_regression

VOCABULARY = "vocabulary.json"
WEIGHTS = "tfidf.safetensors"
STEPS = 2  # progress: the features, then the regression
ANALYZERS = {"word": ("word", (1, 2)), "char": ("char_wb", (2, 5))}


def _vectorizer(name: str) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyzer, ngrams = ANALYZERS[name]
    return TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True, lowercase=True)


class Tfidf(Drifting):
    def __init__(
        self, manifest: dict[str, Any], vectorizers: dict[str, Any], weights: np.ndarray, biases: np.ndarray
    ) -> None:
        super().__init__(manifest)
        self._labels: list[str] = list(manifest["labels"])
        self.vectorizers, self.weights, self.biases = vectorizers, weights, biases

    @property
    def labels(self) -> list[str]:
        return self._labels

    def features(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import hstack

        return hstack([self.vectorizers[name].transform(list(texts)) for name in ANALYZERS]).tocsr()

    def scores(self, texts: Sequence[str]) -> Scores:
        probabilities = softmax(np.asarray(self.features(texts) @ self.weights.T) + self.biases)
        return Scores(probabilities, probabilities, self.labels)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.scores(texts).embeddings


def fit(job: Job) -> Fitted:
    from scipy.sparse import hstack

    labels, train = list(job.spec.labels), job.splits.train
    texts = [e.text for e in train]
    vectorizers = {name: _vectorizer(name) for name in ANALYZERS}
    features = hstack([vectorizers[name].fit_transform(texts) for name in ANALYZERS]).tocsr()
    job.on_progress(Progress(epoch=1, step=1, total_steps=STEPS, loss=None))
    weights, biases = logistic_regression(
        features, [e.label for e in train], labels, job.config.regularization, job.config.seed
    )
    job.on_progress(Progress(epoch=1, step=STEPS, total_steps=STEPS, loss=None))
    vocabulary = {
        name: {term: int(column) for term, column in vectorizers[name].vocabulary_.items()}
        for name in ANALYZERS
    }
    (job.folder / VOCABULARY).write_text(json.dumps(vocabulary, ensure_ascii=False, sort_keys=True))
    idf = {f"idf_{name}": vectorizers[name].idf_.astype(np.float64) for name in ANALYZERS}
    save_file({"weights": weights, "biases": biases, **idf}, str(job.folder / WEIGHTS))
    predictor = Tfidf({"labels": labels}, vectorizers, weights, biases)
    return Fitted(predictor, {}, metrics={"features": int(features.shape[1])})


def load(folder: Path, manifest: dict[str, Any], *, quantized: bool = False) -> Tfidf:
    vocabulary = json.loads((folder / VOCABULARY).read_text())
    stored = load_file(str(folder / WEIGHTS))
    vectorizers = {}
    for name in ANALYZERS:
        vectorizer = _vectorizer(name)
        vectorizer.vocabulary_ = vocabulary[name]
        vectorizer.idf_ = stored[f"idf_{name}"]
        vectorizers[name] = vectorizer
    return Tfidf(manifest, vectorizers, stored["weights"], stored["biases"])
