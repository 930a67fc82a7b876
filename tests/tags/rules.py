"""Rules and tags for the tag tests: a rule made as the console will make it, and a
member's tags as {name: source}."""

from typing import Any

from core.clock import utcnow
from core.db import Database
from loyalty import tag_rules, tags


async def add_rule(db: Database, kind: str, condition: dict[str, Any], *, tag: str,
                   action: str = "add") -> int:
    async with db.transaction() as session:
        made = await tags.ensure_tag(session, name=tag)
        rule = await tag_rules.create_rule(session, staff_id=None, now=utcnow(), rule={
            "name": f"{kind} {tag}", "kind": kind, "action": action, "tag_id": made.id,
            "condition": condition})
        return rule.id


async def tags_of(db: Database, member_id: int) -> dict[str, str]:
    async with db.transaction() as session:
        return {view.name: view.source
                for view in await tags.member_tags(session, member_id=member_id)}


async def history_of(db: Database, member_id: int) -> list[tuple[str, str, str, str | None]]:
    """(tag, add|remove, source, rule name), oldest first."""
    async with db.transaction() as session:
        changes = await tags.member_tag_history(session, member_id=member_id)
    return [(c.name, c.action, c.source, c.rule_name) for c in reversed(changes)]
