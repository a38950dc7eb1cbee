"""News sentiment scorers: one score in [-1, 1] per text, traceable to what made it.

Two scorers share the :class:`SentimentScorer` protocol:

* :class:`LexiconSentiment` (the default, offline, no model files): VADER's
  compound score with a finance lexicon layered on VADER's.
* :class:`TransformerSentiment`: a local Hugging Face sequence-classification
  model (FinBERT-style), ``P(positive) - P(negative)``. Nothing is downloaded.

:func:`sentiment_scorer` picks one from :class:`~nexus.config.Settings`
(``NEXUS_SENTIMENT_MODEL``). Every scorer has a ``name`` and a ``version`` to
store next to each score. ``torch``, ``transformers`` and ``vaderSentiment`` are
imported on first use, so importing :mod:`nexus.features` stays fast.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
from collections.abc import Mapping, Sequence
from importlib.metadata import version as _package_version
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from nexus.config import Settings
from nexus.errors import ConfigError, DataError
from nexus.features._sentiment_lexicon import FINANCE_LEXICON

__all__ = [
    "LexiconSentiment",
    "SentimentScorer",
    "TransformerSentiment",
    "sentiment_scorer",
]

_VALENCE_LIMIT = 4.0  # VADER's valence scale is -4 .. 4
_HASH_CHARS = 12
_CHUNK = 1 << 20


@runtime_checkable
class SentimentScorer(Protocol):
    """Scores texts from bearish (-1) to bullish (+1).

    ``name`` and ``version`` are stored next to every score, so a score can be
    traced to the scorer, lexicon or model weights that made it.
    """

    @property
    def name(self) -> str:
        """What kind of scorer, e.g. ``lexicon-vader-finance``."""
        ...

    @property
    def version(self) -> str:
        """A short hash of what decides the scores (lexicon, model weights)."""
        ...

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """One float64 score in [-1, 1] per text; NaN for an empty or blank text."""
        ...


# ---------------------------------------------------------------------- texts


def _text_or_none(index: int, text: object) -> str | None:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    if not isinstance(text, str):
        raise DataError(
            f"text {index} is a {type(text).__name__}, not a str",
            fix="pass the headlines or article texts as strings (None or NaN for a missing one)",
        )
    return text if text.strip() else None


def _texts(texts: Sequence[str]) -> list[str | None]:
    """The texts, with None for a blank or missing one."""
    if isinstance(texts, str | bytes):
        raise DataError(
            "score() takes a sequence of texts, not a single string",
            fix="wrap the one text in a list: score([text])",
        )
    return [_text_or_none(i, text) for i, text in enumerate(texts)]


def _short_hash(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()[:_HASH_CHARS]


# -------------------------------------------------------------------- lexicon


def _lexicon_key(key: object) -> str:
    words = key.lower().split() if isinstance(key, str) else []
    if not words:
        raise ConfigError(
            f"lexicon entry {key!r} is not a word or phrase",
            fix="use non-empty strings as lexicon keys",
        )
    return " ".join(words)


def _valence(key: str, value: object) -> float:
    number = float(value) if isinstance(value, numbers.Real) else math.nan
    if not -_VALENCE_LIMIT <= number <= _VALENCE_LIMIT:
        raise ConfigError(
            f"lexicon entry {key!r} has valence {value!r}",
            fix="use a number from -4 (most bearish) to 4 (most bullish), as in VADER's lexicon",
        )
    return number


def _merge_lexicon(extra: Mapping[str, float] | None) -> dict[str, float]:
    merged = {**FINANCE_LEXICON, **(extra or {})}
    return {_lexicon_key(key): _valence(str(key), value) for key, value in merged.items()}


def _phrase_pattern(lexicon: Mapping[str, float]) -> re.Pattern[str] | None:
    """A regex matching any phrase (multi-word key) of ``lexicon``, longest first."""
    phrases = sorted((key for key in lexicon if " " in key), key=len, reverse=True)
    if not phrases:
        return None
    parts = (r"\s+".join(map(re.escape, phrase.split())) for phrase in phrases)
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])", re.IGNORECASE)


def _join_phrases(text: str, pattern: re.Pattern[str] | None) -> str:
    """``text`` with each lexicon phrase joined into one token: "raises_guidance"."""
    if pattern is None:
        return text
    return pattern.sub(lambda match: "_".join(match.group(0).lower().split()), text)


def _build_vader(lexicon: Mapping[str, float]) -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update({key.replace(" ", "_"): value for key, value in lexicon.items()})
    return analyzer


class LexiconSentiment:
    """VADER's compound score with a finance lexicon layered on VADER's.

    Offline and fast (no model files). The finance entries
    (:data:`~nexus.features.FINANCE_LEXICON`) score finance events VADER does
    not know ("beats", "downgraded", "plunge", "lawsuit"), neutralise words
    VADER scores by their everyday meaning ("shares", "gross", "liability",
    "interest") and score phrases ("raises guidance", "record profit").

    scikit-learn style: ``__init__`` stores its argument unchanged; the VADER
    analyzer is built on the first :meth:`score` and belongs to this instance.

    Parameters
    ----------
    extra_lexicon : mapping of str to float, optional
        More entries, or overrides, on VADER's scale (-4 .. 4). A key with a
        space is a phrase, matched case-insensitively across any whitespace.

    Attributes
    ----------
    name : str
        ``"lexicon-vader-finance"``.
    version : str
        A short hash of the vaderSentiment version and the finance lexicon
        (with ``extra_lexicon``): a new lexicon gives a new version.

    Examples
    --------
    >>> scorer = LexiconSentiment()
    >>> scorer.score([
    ...     "Acme beats estimates and raises guidance",
    ...     "Acme misses estimates, cuts guidance; shares plunge",
    ...     "Acme shares open at $12",
    ...     "  ",
    ... ]).round(3).tolist()
    [0.758, -0.875, 0.0, nan]
    >>> scorer.name, len(scorer.version)
    ('lexicon-vader-finance', 12)
    >>> LexiconSentiment({"meme rally": 3.0}).version != scorer.version
    True
    """

    name = "lexicon-vader-finance"

    def __init__(self, extra_lexicon: Mapping[str, float] | None = None) -> None:
        self.extra_lexicon = extra_lexicon

    @property
    def lexicon(self) -> dict[str, float]:
        """The finance entries with ``extra_lexicon`` layered on, keys lower-cased."""
        return _merge_lexicon(self.extra_lexicon)

    @property
    def version(self) -> str:
        """A short hash of the vaderSentiment version and :attr:`lexicon`."""
        payload = {
            "vader": _package_version("vaderSentiment"),
            "lexicon": sorted(self.lexicon.items()),
        }
        return _short_hash(json.dumps(payload, separators=(",", ":")).encode())

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """VADER's compound score of each text.

        Parameters
        ----------
        texts : sequence of str
            Headlines or article texts. None, NaN and blank texts score NaN.

        Returns
        -------
        ndarray of float64, shape (n,)
            In [-1, 1]: negative bearish, positive bullish.
        """
        items = _texts(texts)
        analyzer, pattern = self._analyzer()
        scores = np.full(len(items), np.nan)
        for i, text in enumerate(items):
            if text is not None:
                scores[i] = analyzer.polarity_scores(_join_phrases(text, pattern))["compound"]
        return scores

    def _analyzer(self) -> tuple[Any, re.Pattern[str] | None]:
        """This instance's VADER analyzer and phrase regex, rebuilt if the lexicon changed."""
        lexicon = self.lexicon
        cached = self.__dict__.get("_built")
        if cached is None or cached[0] != lexicon:
            cached = (lexicon, _build_vader(lexicon), _phrase_pattern(lexicon))
            self._built = cached
        return cached[1], cached[2]


# ---------------------------------------------------------------- transformer

_MODEL_FIX = (
    "set NEXUS_SENTIMENT_MODEL to a local folder saved with save_pretrained() (config.json, "
    "model.safetensors or pytorch_model.bin, and the tokenizer files), or unset it to use the "
    "offline lexicon scorer; nothing is downloaded"
)
_LABEL_SIGNS = {
    "positive": 1.0,
    "pos": 1.0,
    "bullish": 1.0,
    "negative": -1.0,
    "neg": -1.0,
    "bearish": -1.0,
    "neutral": 0.0,
    "neu": 0.0,
}
_WEIGHT_GLOBS = ("model*.safetensors", "pytorch_model*.bin")
_TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "vocab.json",
    "spiece.model",
    "sentencepiece.bpe.model",
    "tokenizer.model",
)


def _weight_files(folder: Path) -> list[Path]:
    return sorted(path for pattern in _WEIGHT_GLOBS for path in folder.glob(pattern))


def _model_files(path: str | Path) -> tuple[Path, list[Path]]:
    """The model folder and the files its version hashes: config, weights and tokenizer.

    The tokenizer is hashed too: a changed vocabulary changes the scores.
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise ConfigError(f"sentiment model folder {folder} {problem}", fix=_MODEL_FIX)
    config, weights = folder / "config.json", _weight_files(folder)
    wanted = {
        "config.json": config.is_file(),
        "weights (model.safetensors or pytorch_model.bin)": bool(weights),
        "tokenizer files (tokenizer.json, vocab.txt, ...)": any(
            (folder / name).is_file() for name in _TOKENIZER_FILES
        ),
    }
    if missing := [what for what, present in wanted.items() if not present]:
        raise ConfigError(
            f"sentiment model folder {folder} has no {' and no '.join(missing)}", fix=_MODEL_FIX
        )
    tokenizer = [folder / name for name in _TOKENIZER_FILES if (folder / name).is_file()]
    return folder, [config, *weights, *tokenizer]


def _files_hash(folder: Path, files: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()[:_HASH_CHARS]


def _load_model(folder: Path) -> tuple[Any, Any]:
    """The tokenizer and the model from ``folder``, local files only, on the CPU."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(
            folder, local_files_only=True, trust_remote_code=False, dtype=torch.float32
        )
    except Exception as exc:  # a folder that does not load is unusable, whatever the cause
        raise ConfigError(
            f"cannot load the sentiment model in {folder}: {exc}", fix=_MODEL_FIX
        ) from exc
    return tokenizer, model.to("cpu").eval()


def _label_signs(names: Sequence[str], folder: Path) -> np.ndarray:
    """+1 for the positive class, -1 for the negative one, 0 for neutral."""
    keys = [str(name).strip().lower() for name in names]
    signs = [_LABEL_SIGNS.get(key, math.nan) for key in keys]
    if any(math.isnan(s) for s in signs) or signs.count(1.0) != 1 or signs.count(-1.0) != 1:
        raise ConfigError(
            f"the labels {list(names)} of the sentiment model in {folder} cannot be mapped to "
            "one positive, one negative and any neutral class",
            fix="pass labels= with the class names in the model's output order, e.g. "
            "labels=('negative', 'neutral', 'positive')",
        )
    return np.asarray(signs, dtype=np.float64)


def _model_labels(model: Any, labels: Sequence[str] | None, folder: Path) -> list[str]:
    count = int(model.config.num_labels)
    if labels is None:
        id2label = model.config.id2label
        return [str(id2label.get(i, id2label.get(str(i), f"LABEL_{i}"))) for i in range(count)]
    if isinstance(labels, str) or len(labels) != count:
        raise ConfigError(
            f"labels={labels!r} does not name the {count} classes of the sentiment model "
            f"in {folder}",
            fix=f"pass {count} class names in the model's output order",
        )
    return list(labels)


def _check_size(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name}={value!r} is not a positive integer", fix=f"pass {name} >= 1")


class TransformerSentiment:
    """``P(positive) - P(negative)`` from a local sequence-classification model.

    A FinBERT-style Hugging Face model saved in a local folder (for example with
    ``save_pretrained``). It is loaded in ``__init__`` with
    ``local_files_only=True``, so a bad folder fails before any text is scored
    and nothing is ever downloaded. Runs on the CPU, in batches, truncating
    long texts.

    Parameters
    ----------
    path : str or Path
        The model folder: ``config.json``, ``model.safetensors`` or
        ``pytorch_model.bin`` (or their shards), and the tokenizer files.
    batch_size : int
        Texts per forward pass.
    max_length : int
        Tokens kept of each text (longer ones are truncated).
    labels : sequence of str, optional
        The class names in the model's output order, overriding the config's
        ``id2label``. Names are matched case-insensitively: positive (or pos,
        bullish), negative (neg, bearish), neutral (neu).

    Attributes
    ----------
    name : str
        ``"transformer:<folder name>"``.
    version : str
        A short sha256 of ``config.json``, the weight files and the tokenizer files.

    Raises
    ------
    ConfigError
        The folder, its config, weights or tokenizer are missing or unreadable,
        or its labels cannot be mapped to positive, negative and neutral.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        batch_size: int = 32,
        max_length: int = 128,
        labels: Sequence[str] | None = None,
    ) -> None:
        self.path = path
        self.batch_size = batch_size
        self.max_length = max_length
        self.labels = labels
        _check_size("batch_size", batch_size)
        _check_size("max_length", max_length)
        folder, files = _model_files(path)
        self.name = f"transformer:{folder.resolve().name}"
        self.version = _files_hash(folder, files)
        self._tokenizer, self._model = _load_model(folder)
        self._signs = _label_signs(_model_labels(self._model, labels, folder), folder)

    def __repr__(self) -> str:
        return f"TransformerSentiment({str(self.path)!r}, version={self.version!r})"

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """``P(positive) - P(negative)`` of each text.

        Parameters
        ----------
        texts : sequence of str
            Headlines or article texts. None, NaN and blank texts score NaN.

        Returns
        -------
        ndarray of float64, shape (n,)
            In [-1, 1]: negative bearish, positive bullish.
        """
        items = _texts(texts)
        scores = np.full(len(items), np.nan)
        todo = [i for i, text in enumerate(items) if text is not None]
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start : start + self.batch_size]
            scores[batch] = self._score_batch([items[i] for i in batch])
        return scores

    def _score_batch(self, batch: list[str]) -> np.ndarray:
        import torch

        encoded = self._tokenizer(
            batch, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        with torch.inference_mode():
            logits = self._model(**encoded).logits
        probs = torch.softmax(logits.to(torch.float64), dim=-1).numpy()
        return np.clip(probs @ self._signs, -1.0, 1.0)


# -------------------------------------------------------------------- factory


def sentiment_scorer(settings: Settings | None = None) -> SentimentScorer:
    """The scorer the settings ask for.

    Parameters
    ----------
    settings : Settings, optional
        Default: ``Settings()`` (the environment).

    Returns
    -------
    SentimentScorer
        :class:`TransformerSentiment` of ``settings.sentiment_model``
        (``NEXUS_SENTIMENT_MODEL``) when set, otherwise :class:`LexiconSentiment`.

    Examples
    --------
    >>> sentiment_scorer(Settings(sentiment_model=None)).name
    'lexicon-vader-finance'
    """
    settings = Settings() if settings is None else settings
    if settings.sentiment_model is not None:
        return TransformerSentiment(settings.sentiment_model)
    return LexiconSentiment()
