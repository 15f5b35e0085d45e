"""Import and export of prompts as JSON or CSV.

Every row is validated before anything is written; one bad row rejects the
whole file with an error per problem (row, field, reason). Row numbers are
what a person sees: in CSV the header is row 1, so the first prompt is row
2; in JSON the first prompt is row 1.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TextIO

from django import forms
from django.db import transaction

from prompts.models import Intensity, Kind, Prompt, PromptVersion, Theme
from prompts.models.library import validate_language
from prompts.services import workflow

COLUMNS = [
    "slug",
    "title",
    "kind",
    "themes",
    "intensity",
    "content_note",
    "suggested_minutes",
    "text",
    "follow_up_questions",
    "language",
]
REQUIRED = {"slug", "title", "kind", "text"}
Format = Literal["json", "csv"]


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.reason}"


class ImportRejected(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class ImportResult:
    created: int = 0
    changed: int = 0
    unchanged: int = 0


class PromptRowForm(forms.Form):
    slug = forms.SlugField(max_length=80)
    title = forms.CharField(max_length=120)
    kind = forms.ChoiceField(
        choices=Kind.choices,
        error_messages={
            "invalid_choice": "“%(value)s” is not one of " + ", ".join(Kind.values)
        },
    )
    themes = forms.MultipleChoiceField(required=False)
    intensity = forms.ChoiceField(
        choices=Intensity.choices,
        required=False,
        error_messages={
            "invalid_choice": "“%(value)s” is not one of " + ", ".join(Intensity.values)
        },
    )
    content_note = forms.CharField(max_length=300, required=False)
    suggested_minutes = forms.IntegerField(min_value=1, max_value=90, required=False)
    text = forms.CharField(max_length=4000)
    follow_up_questions = forms.JSONField(required=False)
    language = forms.CharField(
        max_length=16, required=False, validators=[validate_language]
    )

    def __init__(self, *args: Any, theme_slugs: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["themes"].choices = [(s, s) for s in theme_slugs]  # type: ignore[attr-defined]
        self.fields["themes"].error_messages["invalid_choice"] = (
            "“%(value)s” is not a theme; known themes: " + ", ".join(theme_slugs)
        )

    def clean_follow_up_questions(self) -> list[str]:
        value = self.cleaned_data["follow_up_questions"] or []
        if not isinstance(value, list) or not all(isinstance(q, str) for q in value):
            raise forms.ValidationError("Give a list of questions.")
        questions = [q.strip() for q in value if q.strip()]
        if len(questions) > 10 or any(len(q) > 300 for q in questions):
            raise forms.ValidationError("Up to 10 questions of 300 characters each.")
        return questions


def _as_list(value: Any, separator: str) -> Any:
    if isinstance(value, str):
        parts = value.splitlines() if separator == "\n" else value.split(separator)
        return [p.strip() for p in parts if p.strip()]
    return value


def _form_data(raw: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in raw.items() if v is not None}
    data["themes"] = _as_list(data.get("themes", []), ";")
    data["follow_up_questions"] = json.dumps(
        _as_list(data.get("follow_up_questions", []), "\n")
    )
    return data


def validate_rows(rows: Iterable[tuple[int, Any]]) -> list[dict[str, Any]]:
    """Clean every row or raise ImportRejected listing every problem."""
    theme_slugs = list(Theme.objects.values_list("slug", flat=True))
    errors: list[RowError] = []
    cleaned: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, raw in rows:
        if not isinstance(raw, dict):
            errors.append(RowError(number, "row", "expected an object of fields"))
            continue
        unknown = sorted(set(raw) - set(COLUMNS))
        errors.extend(RowError(number, name, "unknown field") for name in unknown)
        slug = str(raw.get("slug", "")).strip()
        if slug and slug in seen:
            errors.append(RowError(number, "slug", f"also used on row {seen[slug]}"))
        seen.setdefault(slug, number)
        form = PromptRowForm(_form_data(raw), theme_slugs=theme_slugs)
        if not form.is_valid():
            for name, messages in form.errors.items():
                errors.extend(RowError(number, name, str(m)) for m in messages)
            continue
        cleaned.append(form.cleaned_data)
    if errors:
        raise ImportRejected(errors)
    return cleaned


def _content(data: dict[str, Any], themes: dict[str, Theme]) -> workflow.PromptContent:
    return workflow.PromptContent(
        title=data["title"],
        text=data["text"],
        kind=data["kind"],
        intensity=data["intensity"] or Intensity.GENTLE,
        suggested_minutes=data["suggested_minutes"] or 10,
        themes=[themes[s] for s in data["themes"]],
        content_note=data["content_note"],
        follow_up_questions=data["follow_up_questions"],
        language=data["language"] or "en",
    )


def _same(version: PromptVersion, content: workflow.PromptContent) -> bool:
    mine = workflow.content_of(version)
    return mine.as_fields() == content.as_fields() and {
        t.slug for t in mine.themes
    } == {t.slug for t in content.themes}


@transaction.atomic
def import_prompts(
    *,
    rows: Iterable[tuple[int, Any]],
    by: Any = None,
    publish: bool = False,
    only_new: bool = False,
    credit: str = "",
) -> ImportResult:
    """Create or update prompts from rows. An existing prompt whose content
    differs gets a new version (never an edit of a published one); with
    `only_new`, existing prompts are left alone entirely."""
    cleaned = validate_rows(rows)
    themes = {t.slug: t for t in Theme.objects.all()}
    existing = Prompt.objects.in_bulk([d["slug"] for d in cleaned], field_name="slug")
    result = ImportResult()
    author = by if getattr(by, "pk", None) else None
    for data in cleaned:
        content = _content(data, themes)
        prompt = existing.get(data["slug"])
        if prompt is None:
            prompt = Prompt.objects.create(
                slug=data["slug"], author=author, credit=credit
            )
            version = workflow.write_version(
                prompt=prompt, by=author, content=content, latest=None
            )
            result.created += 1
        else:
            latest = workflow.latest_version(prompt)
            if only_new or (latest is not None and _same(latest, content)):
                result.unchanged += 1
                continue
            version = workflow.write_version(
                prompt=prompt, by=author, content=content, latest=latest
            )
            result.changed += 1
        if publish:
            workflow.mark_published(version=version, by=author, comment="Imported.")
    return result


def read_rows(stream: TextIO, fmt: Format) -> list[tuple[int, Any]]:
    if fmt == "json":
        try:
            payload = json.load(stream)
        except json.JSONDecodeError as e:
            raise ImportRejected([RowError(0, "file", f"not valid JSON ({e})")]) from e
        items = payload.get("prompts") if isinstance(payload, dict) else payload
        if not isinstance(items, list):
            raise ImportRejected([RowError(0, "file", "expected a list of prompts")])
        return list(enumerate(items, start=1))
    reader = csv.DictReader(stream)
    header = set(reader.fieldnames or [])
    problems = [RowError(1, c, "missing column") for c in sorted(REQUIRED - header)]
    problems += [
        RowError(1, c, "unknown column") for c in sorted(header - set(COLUMNS))
    ]
    if problems:
        raise ImportRejected(problems)
    return [
        (n, {k: v for k, v in row.items() if v != ""})
        for n, row in enumerate(reader, start=2)
    ]


def export_rows(
    *, include: Literal["published", "latest"] = "published"
) -> list[dict[str, Any]]:
    """One row per prompt: its published version, or its latest one."""
    versions = PromptVersion.objects.prefetch_related("themes").select_related("prompt")
    if include == "published":
        chosen = list(versions.published().order_by("prompt__slug"))
    else:
        # Ordered by number, so the last one seen per prompt is its latest.
        ordered = versions.order_by("prompt__slug", "number")
        chosen = list({v.prompt_id: v for v in ordered}.values())
    return [
        {
            "slug": v.prompt.slug,
            "title": v.title,
            "kind": v.kind,
            "themes": [t.slug for t in v.themes.all()],
            "intensity": v.intensity,
            "content_note": v.content_note,
            "suggested_minutes": v.suggested_minutes,
            "text": v.text,
            "follow_up_questions": list(v.follow_up_questions),
            "language": v.language,
        }
        for v in chosen
    ]


def write_rows(rows: list[dict[str, Any]], stream: TextIO, fmt: Format) -> None:
    if fmt == "json":
        json.dump({"prompts": rows}, stream, ensure_ascii=False, indent=2)
        stream.write("\n")
        return
    writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                **row,
                "themes": ";".join(row["themes"]),
                "follow_up_questions": "\n".join(row["follow_up_questions"]),
            }
        )


def dumps(rows: list[dict[str, Any]], fmt: Format) -> str:
    buffer = io.StringIO()
    write_rows(rows, buffer, fmt)
    return buffer.getvalue()
