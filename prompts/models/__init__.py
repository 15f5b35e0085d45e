"""The prompt library and session plans."""

from prompts.models.library import (
    Intensity,
    Kind,
    Prompt,
    PromptRating,
    PromptVersion,
    ReviewComment,
    Theme,
)
from prompts.models.plans import PlanAssignment, PlanItem, SessionPlan

__all__ = [
    "Intensity",
    "Kind",
    "PlanAssignment",
    "PlanItem",
    "Prompt",
    "PromptRating",
    "PromptVersion",
    "ReviewComment",
    "SessionPlan",
    "Theme",
]
