"""Tags imported from a shop's records (loyalty.tag_imports and `punchline import
tags`): source import, rejected rows with their lines, a second run changes nothing."""

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

import cli
from core.db import Database
from loyalty.imports import Rejection
from loyalty.models import MemberTag, MemberTagChange, Tag
from loyalty.tag_imports import import_tags
from loyalty.tags import Tagger, tag_member
from tests.databases import run_in_thread
from tests.loyalty.factories import T0, add_member

HEADER = "member_key,tag\n"


async def members_with_keys(db: Database, *keys: str) -> dict[str, int]:
    async with db.transaction() as session:
        ids = {}
        for key in keys:
            member = await add_member(session, name=key)
            member.member_key = key
            ids[key] = member.id
    return ids


async def tags_of(db: Database) -> set[tuple[int, str, str]]:
    async with db.transaction() as session:
        rows = await session.execute(select(MemberTag.member_id, Tag.name, MemberTag.source)
                                     .join(Tag, Tag.id == MemberTag.tag_id))
        return {(member_id, name, source) for member_id, name, source in rows}


async def test_imported_tags_carry_the_import_source_and_rejections_their_lines(db: Database):
    ids = await members_with_keys(db, "C-1", "C-2")
    rejected: list[Rejection] = []
    body = ("C-1,燕麥奶\n"           # line 2
            "C-2,VIP\n"             # line 3
            "C-9,VIP\n"             # line 4: nobody has this key
            "C-1,\"two\nlines\"\n"  # lines 5-6: a name with a line break
            "C-2\n"                 # line 7: one field
            "C-2,VIP\n")            # line 8: the same pair again

    report = await import_tags(db, (HEADER + body).splitlines(keepends=True), now=T0,
                               on_reject=rejected.append)

    assert await tags_of(db) == {(ids["C-1"], "燕麥奶", "import"), (ids["C-2"], "VIP", "import")}
    assert (report.tagged, report.already_tagged, report.rejected) == (2, 1, 3)
    assert [(rejection.line, rejection.fields[0]) for rejection in rejected] == [
        (4, "C-9"), (6, "C-1"), (7, "C-2")]
    assert "no member" in rejected[0].reason


async def test_importing_the_same_file_again_changes_nothing(db: Database):
    ids = await members_with_keys(db, "C-1")
    async with db.transaction() as session:  # a tag set by hand stays as it was set
        await tag_member(session, member_id=ids["C-1"], name="VIP", by=Tagger("manual"),
                         now=T0)
    lines = (HEADER + "C-1,VIP\nC-1,常客\n").splitlines(keepends=True)

    first = await import_tags(db, lines, now=T0)
    again = await import_tags(db, lines, now=T0)

    assert (first.tagged, first.already_tagged) == (1, 1)
    assert (again.tagged, again.already_tagged) == (0, 2)
    assert await tags_of(db) == {(ids["C-1"], "VIP", "manual"), (ids["C-1"], "常客", "import")}
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(MemberTagChange)) == 2


runner = CliRunner()


def test_the_cli_prints_what_it_tagged_and_exits_non_zero_on_a_wrong_header(
        database_url: str, tmp_path: Path):
    database = Database(database_url)
    run_in_thread(members_with_keys(database, "C-1"))
    run_in_thread(database.dispose())
    good = tmp_path / "tags.csv"
    good.write_text(HEADER + "C-1,VIP\nC-7,VIP\n", encoding="utf-8")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("key,label\nC-1,VIP\n", encoding="utf-8")

    result = runner.invoke(cli.app, ["import", "tags", str(good)])
    refused = runner.invoke(cli.app, ["import", "tags", str(wrong)])

    assert result.exit_code == 0, result.output
    assert "tagged 1" in result.output and "rejected 1" in result.output
    assert "line 3: no member has this member_key" in result.output
    assert refused.exit_code == 1
