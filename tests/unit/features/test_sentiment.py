"""News sentiment scorers: the finance lexicon over VADER, and a local transformer model."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nexus.config import Settings
from nexus.errors import ConfigError, DataError
from nexus.features import (
    FINANCE_LEXICON,
    LexiconSentiment,
    SentimentScorer,
    TransformerSentiment,
    sentiment_scorer,
)

BULLISH = [
    "Acme beats estimates and raises guidance",
    "Globex shares surge after record profit",
    "Initech upgraded to outperform at Morgan Stanley",
    "Umbrella Corp posts record revenue, lifts guidance",
    "Hooli soars as quarterly earnings top expectations",
    "Analysts turn bullish on Stark Industries after upgrade",
    "Wayne Enterprises rallies to all-time high on buyback plan",
    "Cyberdyne beats on revenue and earnings, stock jumps",
    "Soylent raised guidance after strong quarter",
    "Tyrell shares rebound as sales growth accelerates",
]
NEUTRAL = [
    "Acme to report quarterly results on Tuesday",
    "Globex shares open at $42 in New York",
    "Initech names new chief financial officer",
    "Umbrella Corp schedules annual shareholder meeting for May",
    "Hooli files quarterly report with the SEC",
    "Stark Industries to present at investor conference",
    "Wayne Enterprises declares regular quarterly dividend",
    "Cyberdyne lists gross margin and liabilities in annual filing",
    "Soylent shares trade on the Nasdaq under a new ticker",
    "Tyrell completes previously announced debt offering",
]
BEARISH = [
    "Acme misses estimates, cuts guidance; shares plunge",
    "Globex downgraded to underperform as outlook darkens",
    "Initech faces lawsuit and regulatory probe over accounting",
    "Umbrella Corp files for bankruptcy after debt default",
    "Hooli announces layoffs as revenue misses forecasts",
    "Stark Industries shares tumble on product recall",
    "Wayne Enterprises issues profit warning, stock slumps",
    "Analysts turn bearish on Cyberdyne after earnings miss",
    "Soylent lowers guidance amid weak demand",
    "Tyrell sinks to record low after SEC investigation",
]


def _vader(text: str) -> float:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return float(SentimentIntensityAnalyzer().polarity_scores(text)["compound"])


# -------------------------------------------------------------------- lexicon


def test_lexicon_ranks_bullish_above_neutral_above_bearish() -> None:
    scorer = LexiconSentiment()
    bull, flat, bear = (scorer.score(group) for group in (BULLISH, NEUTRAL, BEARISH))
    assert bull.min() > flat.max()
    assert flat.min() > bear.max()
    assert bull.min() > 0.3
    assert bear.max() < -0.3
    np.testing.assert_array_less(np.abs(flat), 0.3)


def test_scores_are_float64_in_range_with_nan_for_blank_text() -> None:
    texts = [*BULLISH, "", "   \n\t", None, float("nan"), *BEARISH]
    scores = LexiconSentiment().score(texts)  # type: ignore[arg-type]
    assert scores.dtype == np.float64
    assert scores.shape == (len(texts),)
    blank = np.isnan(scores)
    assert blank.tolist() == [False] * 10 + [True] * 4 + [False] * 10
    assert np.all(np.abs(scores[~blank]) <= 1.0)
    assert LexiconSentiment().score([]).shape == (0,)


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("Acme beats estimates", 1),
        ("Analysts move Acme to overweight", 1),
        ("Acme raises guidance", 1),
        ("Acme posts record profit", 1),
        ("Acme misses estimates", -1),
        ("Acme downgraded by analysts", -1),
        ("Acme files for Chapter 11 protection", -1),
        ("Acme cuts guidance", -1),
    ],
)
def test_finance_words_move_the_score_the_right_way(text: str, sign: int) -> None:
    ours = LexiconSentiment().score([text])[0]
    assert np.sign(ours) == sign
    assert sign * ours > sign * _vader(text)  # stronger than (or flipped from) plain VADER


@pytest.mark.parametrize(
    "text",
    ["Acme shares", "gross margin", "liability", "interest income", "crude oil", "free cash flow"],
)
def test_finance_terms_of_art_are_neutral(text: str) -> None:
    assert _vader(text) != 0.0  # plain VADER reads an everyday sentiment into them
    assert LexiconSentiment().score([text])[0] == 0.0


def test_phrases_match_any_case_and_whitespace_and_negation_still_applies() -> None:
    scorer = LexiconSentiment()
    loud, plain, negated = scorer.score(
        ["ACME RAISES   GUIDANCE", "Acme raises guidance", "Acme is not expected to raise guidance"]
    )
    assert loud >= plain > 0
    assert negated < 0


def test_version_changes_with_the_lexicon_only() -> None:
    base = LexiconSentiment()
    assert base.name == "lexicon-vader-finance"
    assert len(base.version) == 12
    assert int(base.version, 16) >= 0
    assert LexiconSentiment().version == base.version
    assert LexiconSentiment({}).version == base.version
    assert LexiconSentiment({"meme": 1.0}).version != base.version
    assert LexiconSentiment({"beats": 1.0}).version != base.version
    assert LexiconSentiment({"Beats": 1.0}).version == LexiconSentiment({"beats": 1.0}).version


def test_extra_lexicon_adds_and_overrides_entries() -> None:
    extra = {"beats": -2.0, "short squeeze": 3.0}
    scorer = LexiconSentiment(extra)
    assert scorer.extra_lexicon is extra  # stored unchanged
    beats, squeeze = scorer.score(["Acme beats estimates", "Acme in a short squeeze"])
    assert beats < 0 < squeeze
    assert LexiconSentiment().score(["Acme beats estimates"])[0] > 0  # no shared state
    scorer.extra_lexicon = {"beats": 2.0}  # the analyzer follows a changed parameter
    assert scorer.score(["Acme beats estimates"])[0] > 0
    assert set(FINANCE_LEXICON) <= set(scorer.lexicon)


@pytest.mark.parametrize("extra", [{"beats": 5.0}, {"beats": float("nan")}, {"  ": 1.0}])
def test_bad_lexicon_entries_are_config_errors(extra: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="lexicon entry"):
        LexiconSentiment(extra).score(["Acme beats estimates"])


def test_bad_texts_are_data_errors() -> None:
    with pytest.raises(DataError, match="single string"):
        LexiconSentiment().score("Acme beats estimates")
    with pytest.raises(DataError, match="text 1 is a int"):
        LexiconSentiment().score(["Acme", 3])  # type: ignore[list-item]


def test_lexicon_scorer_is_a_sentiment_scorer() -> None:
    assert isinstance(LexiconSentiment(), SentimentScorer)


# ---------------------------------------------------------------- transformer

WORDS = sorted(
    {word.strip(",;$").lower() for text in BULLISH + BEARISH + NEUTRAL for word in text.split()}
)
LABELS = {0: "positive", 1: "negative", 2: "neutral"}


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test here may reach the network: Hugging Face offline, and no socket may connect."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _save_tiny_model(folder: Path, *, seed: int = 0, id2label: dict[int, str] = LABELS) -> Any:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    vocab = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])}
    vocab.update({word: len(vocab) + i for i, word in enumerate(WORDS)})
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        initializer_range=0.5,  # logits far enough apart for the classes to differ
        num_labels=len(id2label),
        id2label=id2label,
        label2id={label: i for i, label in id2label.items()},
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config).eval()
    model.save_pretrained(folder)
    BertTokenizer(vocab=vocab).save_pretrained(folder)
    return model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    """A tiny randomly initialised BERT classifier and its tokenizer, saved locally."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        folder = tmp_path_factory.mktemp("models") / "tiny-finbert"
        yield folder, _save_tiny_model(folder)


def _direct_scores(folder: Path, model: Any, texts: list[str]) -> np.ndarray:
    """P(positive) - P(negative), one text at a time (no padding), from the model's logits."""
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    out = []
    for text in texts:
        with torch.inference_mode():
            logits = model(**tokenizer([text], return_tensors="pt")).logits
        probs = torch.softmax(logits.double(), dim=-1)[0].numpy()
        out.append(probs[0] - probs[1])
    return np.asarray(out)


def test_transformer_scores_are_p_positive_minus_p_negative(tiny: tuple[Path, Any]) -> None:
    folder, model = tiny
    texts = [*BULLISH[:3], "", *BEARISH[:3], "   "]
    scores = TransformerSentiment(folder).score(texts)
    assert scores.dtype == np.float64
    assert scores.shape == (8,)
    assert np.isnan(scores[[3, 7]]).all()
    kept = [t for t in texts if t.strip()]
    np.testing.assert_allclose(
        scores[~np.isnan(scores)], _direct_scores(folder, model, kept), atol=1e-6
    )
    assert np.all(np.abs(scores[~np.isnan(scores)]) <= 1.0)
    assert np.ptp(scores[~np.isnan(scores)]) > 1e-3  # the texts are told apart


def test_transformer_is_deterministic_across_batches_and_instances(tiny: tuple[Path, Any]) -> None:
    folder, _ = tiny
    texts = BULLISH + NEUTRAL + BEARISH
    whole = TransformerSentiment(folder).score(texts)
    np.testing.assert_array_equal(TransformerSentiment(folder).score(texts), whole)
    small = TransformerSentiment(folder, batch_size=7)  # 30 texts: batches of 7, last of 2
    np.testing.assert_allclose(small.score(texts), whole, atol=1e-6)
    np.testing.assert_array_equal(small.score(texts), small.score(texts))


def test_transformer_truncates_long_texts(tiny: tuple[Path, Any]) -> None:
    folder, _ = tiny
    long_text = " ".join(WORDS * 10)  # longer than the 64 positions the model has
    scores = TransformerSentiment(folder, max_length=16).score([long_text, "acme"])
    assert np.isfinite(scores).all()


def test_transformer_name_and_version(tiny: tuple[Path, Any], tmp_path: Path) -> None:
    folder, _ = tiny
    scorer = TransformerSentiment(folder)
    assert isinstance(scorer, SentimentScorer)
    assert scorer.name == "transformer:tiny-finbert"
    assert len(scorer.version) == 12
    assert TransformerSentiment(str(folder)).version == scorer.version
    other = tmp_path / "tiny-finbert"
    _save_tiny_model(other, seed=1)
    assert TransformerSentiment(other).version != scorer.version


def test_labels_override_the_config(tiny: tuple[Path, Any], tmp_path: Path) -> None:
    folder, _ = tiny
    texts = BULLISH[:4]
    swapped = TransformerSentiment(folder, labels=("Negative", "POSITIVE", "neutral"))
    np.testing.assert_allclose(
        swapped.score(texts), -TransformerSentiment(folder).score(texts), atol=1e-12
    )
    generic = tmp_path / "generic"
    _save_tiny_model(generic, id2label={0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    with pytest.raises(ConfigError, match=r"generic cannot be mapped"):
        TransformerSentiment(generic)
    mapped = TransformerSentiment(generic, labels=("bearish", "neutral", "bullish"))
    assert np.isfinite(mapped.score(texts)).all()
    with pytest.raises(ConfigError, match="does not name the 3 classes"):
        TransformerSentiment(generic, labels=("negative", "positive"))


def test_sentiment_scorer_follows_the_settings(
    tiny: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = tiny
    scorer = sentiment_scorer(Settings(sentiment_model=folder))
    assert isinstance(scorer, TransformerSentiment)
    assert scorer.version == TransformerSentiment(folder).version
    monkeypatch.setenv("NEXUS_SENTIMENT_MODEL", str(folder))
    assert isinstance(sentiment_scorer(), TransformerSentiment)
    monkeypatch.delenv("NEXUS_SENTIMENT_MODEL")
    assert isinstance(sentiment_scorer(), LexiconSentiment)
    assert isinstance(sentiment_scorer(Settings(sentiment_model=None)), LexiconSentiment)


def test_missing_folder_is_a_config_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ConfigError, match="does not exist") as info:
        TransformerSentiment(missing)
    assert str(missing) in str(info.value)
    assert "NEXUS_SENTIMENT_MODEL" in str(info.value)
    with pytest.raises(ConfigError, match="no-such-model"):
        sentiment_scorer(Settings(sentiment_model=missing))


@pytest.mark.parametrize(
    ("drop", "problem"),
    [
        (("model.safetensors",), "has no weights"),
        (("config.json",), "has no config.json"),
        (("tokenizer.json", "tokenizer_config.json"), "has no tokenizer files"),
        (("config.json", "model.safetensors"), "has no config.json and no weights"),
    ],
)
def test_incomplete_folder_is_a_config_error_naming_it(
    tiny: tuple[Path, Any], tmp_path: Path, drop: tuple[str, ...], problem: str
) -> None:
    folder = tmp_path / "incomplete"
    shutil.copytree(tiny[0], folder)
    for name in drop:
        (folder / name).unlink()
    with pytest.raises(ConfigError, match=problem) as info:
        TransformerSentiment(folder)
    assert str(folder) in str(info.value)
    assert "NEXUS_SENTIMENT_MODEL" in str(info.value)


@pytest.mark.parametrize("corrupt", ["config.json", "model.safetensors", "tokenizer.json"])
def test_unreadable_files_are_a_config_error_naming_the_folder(
    tiny: tuple[Path, Any], tmp_path: Path, corrupt: str
) -> None:
    folder = tmp_path / "corrupt"
    shutil.copytree(tiny[0], folder)
    (folder / corrupt).write_text("not a model file {")
    with pytest.raises(ConfigError, match="cannot load the sentiment model") as info:
        TransformerSentiment(folder)
    assert str(folder) in str(info.value)
    assert "NEXUS_SENTIMENT_MODEL" in str(info.value)


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"max_length": -1}, {"batch_size": 1.5}])
def test_bad_sizes_are_config_errors(tiny: tuple[Path, Any], kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="not a positive integer"):
        TransformerSentiment(tiny[0], **kwargs)


def test_importing_features_does_not_import_torch_or_transformers() -> None:
    code = (
        "import sys, nexus.features; "
        "print(sorted({'torch', 'transformers', 'vaderSentiment'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
