"""The value types every stage of Nexus speaks.

Nothing here depends on any other part of Nexus.
"""

from nexus.domain._frames import (
    ACTION_COLUMNS,
    BAR_COLUMNS,
    MACRO_COLUMNS,
    NEWS_COLUMNS,
    PREDICTION_COLUMNS,
    QUARANTINE_COLUMNS,
    RECOMMENDATION_COLUMNS,
    actions_frame,
    bars_frame,
    empty_bars,
    macro_frame,
    merge_lists,
    news_frame,
    predictions_frame,
    quarantine_frame,
    recommendations_frame,
    ts_array,
    utc,
)
from nexus.domain._interval import Interval
from nexus.domain._sessions import DEFAULT_CALENDAR, FOREX_CALENDAR, ForexCalendar, Sessions
from nexus.domain._values import (
    Action,
    Bar,
    CorporateAction,
    CorporateActionKind,
    MacroObservation,
    NewsItem,
    Prediction,
    Recommendation,
)

__all__ = [
    "ACTION_COLUMNS",
    "BAR_COLUMNS",
    "DEFAULT_CALENDAR",
    "FOREX_CALENDAR",
    "MACRO_COLUMNS",
    "NEWS_COLUMNS",
    "PREDICTION_COLUMNS",
    "QUARANTINE_COLUMNS",
    "RECOMMENDATION_COLUMNS",
    "Action",
    "Bar",
    "CorporateAction",
    "CorporateActionKind",
    "ForexCalendar",
    "Interval",
    "MacroObservation",
    "NewsItem",
    "Prediction",
    "Recommendation",
    "Sessions",
    "actions_frame",
    "bars_frame",
    "empty_bars",
    "macro_frame",
    "merge_lists",
    "news_frame",
    "predictions_frame",
    "quarantine_frame",
    "recommendations_frame",
    "ts_array",
    "utc",
]
