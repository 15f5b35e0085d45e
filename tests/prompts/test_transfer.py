from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from prompts.models import Prompt, PromptVersion
from prompts.services import transfer
from prompts.starter import load_starter_library

GOOD = {
    "slug": "tiny-ask",
    "title": "A tiny ask",
    "kind": "discussion",
    "themes": ["asking-for-help", "trust"],
    "intensity": "gentle",
    "content_note": "",
    "suggested_minutes": 8,
    "text": "What is the tiniest ask you could make? Passing is welcome.",
    "follow_up_questions": ["Who could you ask?", "What might they say?"],
    "language": "en",
}


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_then_import_round_trips(db, tmp_path: Path, fmt: str) -> None:
    load_starter_library()
    exported = tmp_path / f"library.{fmt}"
    call_command("export_prompts", "--output", str(exported), stderr=io.StringIO())
    before = transfer.export_rows()
    # Importing the same file again changes nothing.
    assert "0 new, 0 with a new version, 46 unchanged" in run(
        "import_prompts", str(exported)
    )
    # Into an empty library, it recreates the same rows.
    from prompts.models import PlanItem, SessionPlan

    PlanItem.objects.all().delete()
    SessionPlan.objects.all().delete()
    Prompt.objects.all().delete()
    assert "46 new" in run("import_prompts", str(exported), "--publish")
    assert transfer.export_rows() == before


def test_import_makes_a_new_version_when_content_differs(db, tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps([GOOD]))
    run("import_prompts", str(path), "--publish")
    path.write_text(json.dumps([{**GOOD, "title": "A tiny ask, reworded"}]))
    assert "1 with a new version" in run("import_prompts", str(path), "--publish")
    versions = PromptVersion.objects.filter(prompt__slug="tiny-ask")
    assert sorted(versions.values_list("number", "status")) == [
        (1, "superseded"),
        (2, "published"),
    ]


def test_without_publish_imports_are_drafts(db, tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"prompts": [GOOD]}))
    run("import_prompts", str(path))
    assert PromptVersion.objects.get().status == "draft"


def test_a_bad_row_rejects_the_whole_file_with_an_error_per_problem(
    db, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.csv"
    rows = [
        GOOD,
        {**GOOD, "slug": "second", "kind": "chat", "suggested_minutes": "lots"},
        {**GOOD, "slug": "tiny-ask", "themes": ["gardening"]},
        {**GOOD, "slug": "fourth", "title": ""},
    ]
    path.write_text(transfer.dumps([{**r, "themes": r["themes"]} for r in rows], "csv"))
    with pytest.raises(CommandError) as excinfo:
        run("import_prompts", str(path))
    message = str(excinfo.value)
    assert "Nothing was imported" in message
    assert "row 3, kind: “chat” is not one of check-in" in message
    assert "row 3, suggested_minutes: Enter a whole number." in message
    assert "row 4, themes: “gardening” is not a theme" in message
    assert "row 4, slug: also used on row 2" in message
    assert "row 5, title: This field is required." in message
    assert not Prompt.objects.exists()


def test_json_errors_name_the_row_and_field(db) -> None:
    rows = [(1, GOOD), (2, "not an object"), (3, {**GOOD, "slug": "x y", "colour": 1})]
    with pytest.raises(transfer.ImportRejected) as excinfo:
        transfer.import_prompts(rows=rows)
    errors = {(e.row, e.field) for e in excinfo.value.errors}
    assert errors == {(2, "row"), (3, "colour"), (3, "slug")}
    assert not Prompt.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.json", "{not json", "not valid JSON"),
        ("wrong.json", '{"prompts": 3}', "expected a list"),
        ("header.csv", "slug,title,colour\n", "missing column"),
        ("latin.csv", None, "not UTF-8"),
    ],
)
def test_unreadable_files_give_a_clear_error(
    db, tmp_path: Path, name: str, content: str | None, expected: str
) -> None:
    path = tmp_path / name
    if content is None:
        path.write_bytes("slug,title\ncaf\xe9,x\n".encode("latin-1"))
    else:
        path.write_text(content)
    with pytest.raises(CommandError, match=expected):
        run("import_prompts", str(path))


def test_missing_file_and_unknown_author_are_command_errors(db, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_prompts", str(tmp_path / "nope.json"))
    path = tmp_path / "one.json"
    path.write_text(json.dumps([GOOD]))
    with pytest.raises(CommandError, match="No account"):
        run("import_prompts", str(path), "--author", "nobody@example.org")


def test_export_to_stdout_is_valid_json(db) -> None:
    load_starter_library()
    payload = json.loads(run("export_prompts"))
    assert len(payload["prompts"]) == 46
