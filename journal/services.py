"""Writing, sharing and reading reflections; a member's mood over time."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from facilitation.models import CheckIn, LiveRoom
from groups.models import FACILITATING_ROLES, Meeting, Membership, SupportGroup
from prompts.models import PromptRating, PromptVersion

from .models import ANSWER_MAX_CHARS, Reflection, Sharing

log = logging.getLogger("hearth.journal")

MIN_PROMPTS, MAX_PROMPTS = 2, 4
REFLECTION_KIND = "reflection"


@dataclass(frozen=True)
class ReflectionPrompt:
    title: str
    text: str
    version_id: int | None


DEFAULT_PROMPTS = (
    ReflectionPrompt(
        "What stayed with you",
        "Something someone said, or something you noticed in yourself.",
        None,
    ),
    ReflectionPrompt(
        "A small kindness",
        "One gentle thing you could offer yourself this week.",
        None,
    ),
    ReflectionPrompt(
        "Next time",
        "Anything you'd like to bring, or leave, at the next session.",
        None,
    ),
)


# --- Which prompts -----------------------------------------------------------
def _plan_versions(meeting: Meeting) -> list[int]:
    """Version ids of the session plan, as frozen in the room if it opened."""
    room = LiveRoom.objects.filter(meeting=meeting).only("plan").first()
    if room is not None and room.plan:
        return [int(i["version_id"]) for i in room.plan if i.get("version_id")]
    from prompts.services.plans import plan_for_meeting

    plan = plan_for_meeting(meeting=meeting)
    if plan is None:
        return []
    return list(
        plan.items.order_by("position", "pk").values_list("version_id", flat=True)
    )


def reflection_prompts(meeting: Meeting) -> list[ReflectionPrompt]:
    """2-4 prompts: the plan's reflection items, topped up with defaults."""
    ids = _plan_versions(meeting)
    versions = PromptVersion.objects.in_bulk(ids)
    chosen: list[ReflectionPrompt] = []
    for version_id in ids:
        version = versions.get(version_id)
        if version is None or version.kind != REFLECTION_KIND:
            continue
        if any(p.version_id == version_id for p in chosen):
            continue
        chosen.append(ReflectionPrompt(version.title, version.text, version.pk))
    for default in DEFAULT_PROMPTS:
        if len(chosen) >= MIN_PROMPTS:
            break
        chosen.append(default)
    return chosen[:MAX_PROMPTS]


def prompts_to_rate(meeting: Meeting) -> list[PromptVersion]:
    """Prompts the session used (shown in the room; else the whole plan)."""
    room = LiveRoom.objects.filter(meeting=meeting).first()
    ids: list[int] = []
    if room is not None and room.plan:
        shown = room.events.filter(kind="prompt.shown").values_list("data", flat=True)
        for data in shown:
            index = data.get("index") if isinstance(data, dict) else None
            if isinstance(index, int) and 0 <= index < len(room.plan):
                version_id = room.plan[index].get("version_id")
                if version_id and version_id not in ids:
                    ids.append(int(version_id))
    if not ids:
        ids = _plan_versions(meeting)
    versions = PromptVersion.objects.in_bulk(ids)
    return [versions[i] for i in dict.fromkeys(ids) if i in versions]


# --- Who may -----------------------------------------------------------------
def meeting_for_reflection(*, user: Any, meeting_id: int) -> Meeting:
    """A session of the person's group; 404 for anyone else."""
    meeting = (
        Meeting.objects.select_related("group")
        .filter(
            pk=meeting_id,
            group__memberships__user=user,
        )
        .first()
    )
    if meeting is None:
        raise Http404("No such session.")
    return meeting


def session_over(meeting: Meeting) -> bool:
    if meeting.is_cancelled:
        return False
    ended = LiveRoom.objects.filter(meeting=meeting, ended_at__isnull=False).exists()
    return ended or meeting.starts_at <= timezone.now()


def own_reflection(*, user: Any, pk: int) -> Reflection:
    """The author's own reflection; anyone else's looks like none at all."""
    found = (
        Reflection.objects.of(user).select_related("meeting__group").filter(pk=pk)
    ).first()
    if found is None:
        raise Http404("No such reflection.")
    return found


def facilitated_group(*, user: Any, slug: str) -> SupportGroup:
    group = SupportGroup.objects.filter(
        slug=slug,
        memberships__user=user,
        memberships__role__in=FACILITATING_ROLES,
    ).first()
    if group is None:
        raise Http404("No such group.")
    return group


# --- Writing -----------------------------------------------------------------
def _screen(texts: list[str], *, user: Any, meeting: Meeting) -> str:
    """Screen a reflection like a chat message, as a reflection: it is never
    held or shown to anyone, but method and imminent risk alert the group's
    facilitators (emailed at once, as nobody is in a room) and the author is
    pointed to support."""
    if not any(texts):
        return ""
    from safety.services import assess_message

    assessment = assess_message(
        group=meeting.group,
        author=user,
        text="\n\n".join(t for t in texts if t),
        facilitators_connected=False,
        meeting=meeting,
        source="reflection",
    )
    return "" if assessment.tier == "none" else str(assessment.tier)


@transaction.atomic
def save_reflection(
    *,
    user: Any,
    meeting: Meeting,
    answers: list[str],
    sharing: str = Sharing.PRIVATE,
    ratings: dict[int, int] | None = None,
) -> Reflection:
    """Create or update the person's reflection on one session.

    Answers line up with `reflection_prompts(meeting)`; empty ones are kept
    empty. Ratings (1 to 5) go to the prompt library's helpfulness figures."""
    if not Membership.objects.filter(group_id=meeting.group_id, user=user).exists():
        raise PermissionDenied("Only members of this group can reflect on it.")
    if not session_over(meeting):
        raise ValidationError("You can reflect once the session has ended.")
    if sharing not in Sharing.values:
        raise ValidationError("Choose who may read this reflection.")
    prompts = reflection_prompts(meeting)
    texts = [str(a or "").strip() for a in answers][: len(prompts)]
    texts += [""] * (len(prompts) - len(texts))
    if any(len(t) > ANSWER_MAX_CHARS for t in texts):
        raise ValidationError(
            f"Each answer can be up to {ANSWER_MAX_CHARS} characters."
        )
    if not any(texts) and not ratings:
        raise ValidationError("Write a few words, or rate a prompt, first.")
    reflection = Reflection.objects.select_for_update().filter(
        author=user, meeting=meeting
    ).first() or Reflection(author=user, meeting=meeting)
    reflection.answers = [
        {"prompt": p.title, "version_id": p.version_id, "text": t}
        for p, t in zip(prompts, texts, strict=True)
    ]
    reflection.screening_tier = _screen(texts, user=user, meeting=meeting)
    _apply_sharing(reflection, sharing)
    reflection.save()
    if ratings:
        rate_prompts(user=user, meeting=meeting, ratings=ratings)
    # Ids and sizes only; never the words.
    log.info(
        "reflection saved id=%s user=%s meeting=%s chars=%s sharing=%s",
        reflection.pk,
        user.pk,
        meeting.pk,
        sum(len(t) for t in texts),
        reflection.sharing,
    )
    return reflection


def _apply_sharing(reflection: Reflection, sharing: str) -> None:
    if sharing == Sharing.PRIVATE:
        reflection.shared_at = None
    elif reflection.sharing == Sharing.PRIVATE or reflection.shared_at is None:
        reflection.shared_at = timezone.now()
    reflection.sharing = sharing


@transaction.atomic
def set_sharing(*, user: Any, pk: int, sharing: str) -> Reflection:
    """Share with the group's facilitators, or withdraw (sharing=private)."""
    reflection = own_reflection(user=user, pk=pk)
    if sharing not in Sharing.values:
        raise ValidationError("Choose who may read this reflection.")
    _apply_sharing(reflection, sharing)
    reflection.save(update_fields=["sharing", "shared_at", "updated_at"])
    return reflection


@transaction.atomic
def delete_reflection(*, user: Any, pk: int) -> None:
    own_reflection(user=user, pk=pk).delete()


def rate_prompts(*, user: Any, meeting: Meeting, ratings: dict[int, int]) -> int:
    allowed = {v.pk for v in prompts_to_rate(meeting)}
    saved = 0
    for version_id, score in ratings.items():
        if version_id not in allowed:
            continue
        if not 1 <= int(score) <= 5:
            raise ValidationError("Ratings go from 1 to 5.")
        PromptRating.objects.update_or_create(
            member=user,
            version_id=version_id,
            meeting=meeting,
            defaults={"score": int(score)},
        )
        saved += 1
    return saved


def ratings_of(*, user: Any, meeting: Meeting) -> dict[int, int]:
    return dict(
        PromptRating.objects.filter(member=user, meeting=meeting).values_list(
            "version_id", "score"
        )
    )


# --- Reading -----------------------------------------------------------------
def shared_with_facilitators(group: SupportGroup) -> list[dict[str, Any]]:
    """Shared reflections of a group's sessions, names only when the author
    chose to give theirs."""
    names = dict(
        Membership.objects.filter(group=group).values_list("user_id", "display_name")
    )
    rows = []
    for reflection in (
        Reflection.objects.shared()
        .filter(meeting__group=group)
        .select_related("meeting", "author")
        .order_by("-meeting__starts_at", "-shared_at", "pk")
    ):
        named = reflection.sharing == Sharing.NAMED
        rows.append(
            {
                "reflection": reflection,
                "meeting": reflection.meeting,
                "author": (
                    (names.get(reflection.author_id) or reflection.author.display_name)
                    if named
                    else "A member (anonymous)"
                ),
                "answers": reflection.answered(),
            }
        )
    return rows


@dataclass(frozen=True)
class MoodPoint:
    day: dt.date
    meeting_title: str
    check_in: int | None
    check_out: int | None


def mood_history(user: Any, limit: int = 24) -> list[MoodPoint]:
    """The person's own check-in and check-out scores, oldest first."""
    by_room: dict[int, dict[str, Any]] = {}
    rows = (
        CheckIn.objects.filter(user=user)
        .select_related("room__meeting")
        .order_by("-room__meeting__starts_at", "room_id")
    )
    for row in rows:
        entry = by_room.setdefault(
            row.room_id,
            {
                "day": row.room.meeting.starts_at.astimezone(user.zone).date(),
                "title": row.room.meeting.title,
                "in": None,
                "out": None,
            },
        )
        entry[row.phase] = row.score
        if len(by_room) > limit:
            by_room.pop(row.room_id)
            break
    points = [
        MoodPoint(e["day"], e["title"], e["in"], e["out"]) for e in by_room.values()
    ]
    return list(reversed(points))
