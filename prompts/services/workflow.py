"""The review workflow: draft → submitted → published or changes requested;
published → superseded (by a newer version) or retired."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from prompts import access
from prompts.models import Prompt, PromptVersion, ReviewComment, Theme

Status = PromptVersion.Status
Action = ReviewComment.Action


@dataclass(frozen=True)
class PromptContent:
    """The words and labels of one version."""

    title: str
    text: str
    kind: str
    intensity: str
    suggested_minutes: int
    themes: Iterable[Theme] = ()
    content_note: str = ""
    follow_up_questions: list[str] = field(default_factory=list)
    language: str = "en"

    def as_fields(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "text": self.text,
            "kind": self.kind,
            "intensity": self.intensity,
            "suggested_minutes": self.suggested_minutes,
            "content_note": self.content_note,
            "follow_up_questions": list(self.follow_up_questions),
            "language": self.language,
        }


def content_of(version: PromptVersion) -> PromptContent:
    return PromptContent(
        themes=list(version.themes.all()),
        **{
            name: getattr(version, name)
            for name in PromptContent.__dataclass_fields__
            if name != "themes"
        },
    )


def unique_slug(title: str) -> str:
    base = slugify(title)[:70] or "prompt"
    slug, n = base, 2
    while Prompt.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def latest_version(prompt: Prompt) -> PromptVersion | None:
    return prompt.versions.order_by("-number").select_related("prompt").first()


@transaction.atomic
def create_prompt(
    *, by: Any, content: PromptContent, slug: str = "", credit: str = ""
) -> PromptVersion:
    """A facilitator starts a new prompt as a draft."""
    if not access.is_facilitator(by):
        raise PermissionDenied
    prompt = Prompt.objects.create(
        slug=slug or unique_slug(content.title), author=by, credit=credit
    )
    return _new_version(prompt=prompt, by=by, content=content)


def _new_version(*, prompt: Prompt, by: Any, content: PromptContent) -> PromptVersion:
    last = prompt.versions.order_by("-number").values_list("number", flat=True).first()
    version = PromptVersion.objects.create(
        prompt=prompt,
        number=(last or 0) + 1,
        author=by if getattr(by, "pk", None) else None,
        **content.as_fields(),
    )
    version.themes.set(list(content.themes))
    return version


@transaction.atomic
def edit_prompt(*, prompt: Prompt, by: Any, content: PromptContent) -> PromptVersion:
    """Change a prompt's words. An unpublished draft is edited in place; a
    published (or superseded) version is never touched: a new draft is made."""
    version = latest_version(prompt)
    if version is None:
        raise ValidationError("This prompt has no versions to edit.")
    if not access.can_edit_prompt(by, version):
        raise PermissionDenied
    if version.status == Status.RETIRED:
        raise ValidationError("This prompt is retired and can no longer be edited.")
    if version.status == Status.SUBMITTED:
        raise ValidationError("This version is waiting for review; edit it afterwards.")
    return write_version(prompt=prompt, by=by, content=content, latest=version)


def write_version(
    *, prompt: Prompt, by: Any, content: PromptContent, latest: PromptVersion | None
) -> PromptVersion:
    """Edit the latest version in place while it is an unpublished draft,
    otherwise add a new draft version. No permission check: callers do it."""
    if latest is not None and latest.is_editable:
        for name, value in content.as_fields().items():
            setattr(latest, name, value)
        latest.status = Status.DRAFT
        latest.save()
        latest.themes.set(list(content.themes))
        return latest
    return _new_version(prompt=prompt, by=by, content=content)


@transaction.atomic
def submit_version(*, version: PromptVersion, by: Any) -> PromptVersion:
    """The author sends a draft to the curators."""
    if not access.can_edit_prompt(by, version):
        raise PermissionDenied
    if not version.is_editable:
        raise ValidationError("Only a draft can be submitted for review.")
    version.status = Status.SUBMITTED
    version.submitted_at = timezone.now()
    version.save(update_fields=["status", "submitted_at"])
    ReviewComment.objects.create(version=version, author=by, action=Action.SUBMITTED)
    return version


@transaction.atomic
def publish_version(
    *, version: PromptVersion, by: Any, comment: str = ""
) -> PromptVersion:
    """A curator makes a version the one the library offers. The previous
    published version is superseded; plans that pinned it keep it."""
    if not access.is_curator(by):
        raise PermissionDenied
    # Lock the row and judge its current state, not the caller's copy.
    locked = PromptVersion.objects.select_for_update().get(pk=version.pk)
    version.status = locked.status
    if locked.status not in (Status.SUBMITTED, Status.DRAFT, Status.CHANGES_REQUESTED):
        label = locked.get_status_display().lower()
        raise ValidationError(f"A version that is “{label}” cannot be published.")
    return mark_published(version=version, by=by, comment=comment)


def mark_published(
    *, version: PromptVersion, by: Any, comment: str = ""
) -> PromptVersion:
    """Publish without a permission check (imports and the starter library
    are operator actions); supersedes the previously published version."""
    now = timezone.now()
    reviewer = by if getattr(by, "pk", None) else None
    PromptVersion.objects.filter(
        prompt_id=version.prompt_id, status=Status.PUBLISHED
    ).update(status=Status.SUPERSEDED)
    version.status, version.reviewed_by, version.reviewed_at = (
        Status.PUBLISHED,
        reviewer,
        now,
    )
    version.published_at = now
    version.save(update_fields=["status", "reviewed_by", "reviewed_at", "published_at"])
    ReviewComment.objects.create(
        version=version, author=reviewer, action=Action.PUBLISHED, body=comment
    )
    return version


@transaction.atomic
def request_changes(*, version: PromptVersion, by: Any, comment: str) -> PromptVersion:
    """A curator sends a submitted version back with a note to its author."""
    if not access.is_curator(by):
        raise PermissionDenied
    if not comment.strip():
        raise ValidationError("Say what should change, so the author can act on it.")
    if version.status != Status.SUBMITTED:
        raise ValidationError("Only a version waiting for review can be sent back.")
    version.status, version.reviewed_by = Status.CHANGES_REQUESTED, by
    version.reviewed_at = timezone.now()
    version.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    ReviewComment.objects.create(
        version=version, author=by, action=Action.CHANGES_REQUESTED, body=comment
    )
    return version


@transaction.atomic
def retire_prompt(*, prompt: Prompt, by: Any, comment: str = "") -> int:
    """A curator takes a prompt out of the library. Plans that pinned one of
    its versions keep it; nobody can add it again. Returns versions retired."""
    if not access.is_curator(by):
        raise PermissionDenied
    live = prompt.versions.exclude(status__in=[Status.SUPERSEDED, Status.RETIRED])
    versions = list(live)
    for version in versions:
        version.status, version.reviewed_by = Status.RETIRED, by
        version.reviewed_at = timezone.now()
        version.save(update_fields=["status", "reviewed_by", "reviewed_at"])
        ReviewComment.objects.create(
            version=version, author=by, action=Action.RETIRED, body=comment
        )
    return len(versions)
