"""Point-in-time features: one declarative spec, batch over history and online bar by bar.

:class:`FeatureSpec` (YAML, ``configs/features/default.yaml``) says which features
to compute; :class:`FeaturePipeline` computes them over a history of bars
(``transform``, for training) or one bar time at a time (``online()``, for the
live engine), and the two agree within 1e-9 after each feature's warm-up.
:class:`FeatureScaler` is fitted on the training window only and saved as JSON
with the model. See ``docs/features.md``.

>>> from nexus.features import FeaturePipeline, FeatureSpec
>>> pipe = FeaturePipeline(FeatureSpec.default())
>>> pipe.names[:4], pipe.warmup
(('ret_1', 'ret_5', 'ret_15', 'ret_60'), 449)
"""

from nexus.features._context import FeatureContext
from nexus.features._macro_features import (
    MacroFeatureParams,
    OnlineMacroFeatures,
    macro_features,
)
from nexus.features._news_features import (
    NEWS_FEATURES,
    NewsFeatureParams,
    OnlineNewsFeatures,
    news_features,
)
from nexus.features._online import OnlineFeatures
from nexus.features._pipeline import FeaturePipeline
from nexus.features._scaler import FeatureScaler
from nexus.features._sentiment import (
    LexiconSentiment,
    SentimentScorer,
    TransformerSentiment,
    sentiment_scorer,
)
from nexus.features._sentiment_lexicon import FINANCE_LEXICON
from nexus.features._spec import (
    AtrParams,
    BollingerParams,
    CalendarParams,
    ClosePositionParams,
    EmaDistanceParams,
    FeatureParams,
    FeatureSet,
    FeatureSpec,
    HighLowRangeParams,
    LogReturnParams,
    MacdParams,
    MarketBetaParams,
    MarketReturnParams,
    RealizedVolParams,
    RsiParams,
    VolumeImbalanceParams,
    VolumeZscoreParams,
)
from nexus.features._warmup import SEED_DECAY

__all__ = [
    "FINANCE_LEXICON",
    "NEWS_FEATURES",
    "SEED_DECAY",
    "AtrParams",
    "BollingerParams",
    "CalendarParams",
    "ClosePositionParams",
    "EmaDistanceParams",
    "FeatureContext",
    "FeatureParams",
    "FeaturePipeline",
    "FeatureScaler",
    "FeatureSet",
    "FeatureSpec",
    "HighLowRangeParams",
    "LexiconSentiment",
    "LogReturnParams",
    "MacdParams",
    "MacroFeatureParams",
    "MarketBetaParams",
    "MarketReturnParams",
    "NewsFeatureParams",
    "OnlineFeatures",
    "OnlineMacroFeatures",
    "OnlineNewsFeatures",
    "RealizedVolParams",
    "RsiParams",
    "SentimentScorer",
    "TransformerSentiment",
    "VolumeImbalanceParams",
    "VolumeZscoreParams",
    "macro_features",
    "news_features",
    "sentiment_scorer",
]
