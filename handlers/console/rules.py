"""Tag rules (loyalty.tag_rules): the list (kind, condition, tag, action, active), a
form per kind (keyword: a pattern, as a word or a regular expression; event: the event
and its optional store, referral code or tier; rfm: a configured RFM segment), activate
and deactivate, delete (asked once), and for RFM rules the members it would change now
(preview_rule) with a sample of the segment. The form's fields are handed to the service
as they came; it judges them."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from core.clock import utcnow
from handlers.console.access import ViewerDep
from handlers.console.forms import MAX_FIELD, confirm_page, csrf_matches, csrf_refused, see_other
from handlers.console.rendering import Viewer, not_found_page, render, row_id
from handlers.deps import SessionDep, SettingsDep
from loyalty.errors import LoyaltyError, NotFound
from loyalty.models import TAG_RULE_KINDS, TagRule
from loyalty.segments import RfmFilter, SegmentDefinition, segment_sample
from loyalty.stores import list_stores
from loyalty.tag_rules import (
    EVENTS,
    MAX_PATTERN_LENGTH,
    MAX_RULE_NAME,
    create_rule,
    delete_rule,
    list_rules,
    live_rule,
    preview_rule,
    segment_names,
    update_rule,
)
from loyalty.tags import tags_with_counts

router = APIRouter(prefix="/console", include_in_schema=False)

SECTION = "rules"
SAMPLE = 10
Short = Annotated[str, Form(max_length=MAX_FIELD)]
Text = Annotated[str, Form(max_length=MAX_RULE_NAME * 4)]
Pattern = Annotated[str, Form(max_length=MAX_PATTERN_LENGTH * 4)]


# The form's fields each kind's condition takes (loyalty.tag_rules' condition models).
_CONDITION_FIELDS: dict[str, tuple[str, ...]] = {
    "keyword": ("pattern", "match"),
    "event": ("event", "store_id", "referral_code", "tier"),
    "rfm": ("segment",),
}


class RuleForm:
    """The posted fields of a rule's form, read as the service's input."""

    def __init__(self, name: Text = "", kind: Short = "keyword", action: Short = "add",
                 tag_id: Short = "", active: Short = "", pattern: Pattern = "",
                 match: Short = "word", event: Short = "", store_id: Short = "",
                 referral_code: Short = "", tier: Short = "", segment: Text = "") -> None:
        self.fields = {"name": name, "kind": kind, "action": action, "tag_id": tag_id,
                       "active": active == "on", "pattern": pattern, "match": match,
                       "event": event, "store_id": store_id,
                       "referral_code": referral_code, "tier": tier, "segment": segment}

    def rule(self) -> dict[str, Any]:
        """The rule as create_rule takes it; only the kind's condition fields are sent,
        and only those given."""
        fields = self.fields
        condition_fields = _CONDITION_FIELDS.get(str(fields["kind"]), ())
        condition = {key: fields[key] for key in condition_fields if fields[key] != ""}
        return {"name": fields["name"], "kind": fields["kind"], "action": fields["action"],
                "tag_id": fields["tag_id"] or 0, "active": fields["active"],
                "condition": condition}


def _saved_fields(rule: TagRule) -> dict[str, Any]:
    return {"name": rule.name, "kind": rule.kind, "action": rule.action,
            "tag_id": str(rule.tag_id), "active": rule.active, "pattern": "",
            "match": "word", "event": "", "store_id": "", "referral_code": "", "tier": "",
            "segment": "", **{key: str(value) for key, value in rule.condition.items()}}


def summary(viewer: Viewer, rule: TagRule, stores: dict[int, str]) -> str:
    """The condition in a few words."""
    condition = rule.condition
    if rule.kind == "keyword":
        return viewer.text(f"console.rules.summary.{condition.get('match', 'word')}",
                           pattern=condition.get("pattern", ""))
    if rule.kind == "rfm":
        return viewer.segment(condition.get("segment"))
    event = viewer.text(f"console.rules.event.{condition.get('event')}")
    detail = (stores.get(condition["store_id"], "") if condition.get("store_id")
              else condition.get("referral_code") or condition.get("tier"))
    return f"{event} · {detail}" if detail else event


async def _lists(session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    return {"tags": await tags_with_counts(session), "stores": await list_stores(session),
            "events": EVENTS, "kinds": TAG_RULE_KINDS,
            "rfm_segments": segment_names(settings.rfm_segments)}


@router.get("/rules", response_class=HTMLResponse)
async def rules_page(request: Request, viewer: ViewerDep, session: SessionDep) -> HTMLResponse:
    stores = {store.id: store.name for store in await list_stores(session, active_only=False)}
    tags = {tag.id: tag.name for tag in await tags_with_counts(session)}
    rows = [(rule, summary(viewer, rule, stores), tags.get(rule.tag_id, "—"))
            for rule in await list_rules(session)]
    return render(request, viewer, "rules.html", section=SECTION, rows=rows,
                  kinds=TAG_RULE_KINDS)


async def _editor(request: Request, viewer: Viewer, session: SessionDep,
                  settings: SettingsDep, *, rule: TagRule | None, fields: dict[str, Any],
                  error: str | None = None, status_code: int = 200) -> HTMLResponse:
    preview, sample = None, []
    if rule is not None and rule.kind == "rfm" and error is None:
        preview = await preview_rule(session, rule=_saved_rule(rule),
                                     rfm_segments=settings.rfm_segments, locale=viewer.locale)
        segment = SegmentDefinition(rfm=RfmFilter(segments=[rule.condition["segment"]]))
        sample = await segment_sample(session, segment, now=utcnow(),
                                      timezone=viewer.timezone, limit=SAMPLE)
    if fields["kind"] not in TAG_RULE_KINDS:  # a posted kind the service refused
        fields = {**fields, "kind": "keyword"}
    response = render(request, viewer, "rule.html", section=SECTION, rule=rule, form=fields,
                      error=error, preview=preview, sample=sample,
                      **await _lists(session, settings))
    response.status_code = status_code
    return response


def _saved_rule(rule: TagRule) -> dict[str, Any]:
    return {"name": rule.name, "kind": rule.kind, "action": rule.action,
            "tag_id": rule.tag_id, "active": rule.active, "condition": rule.condition}


@router.get("/rules/new", response_class=HTMLResponse)
async def new_rule_page(request: Request, viewer: ViewerDep, session: SessionDep,
                        settings: SettingsDep, kind: str = "keyword") -> HTMLResponse:
    fields = RuleForm(kind=kind if kind in TAG_RULE_KINDS else "keyword", active="on").fields
    return await _editor(request, viewer, session, settings, rule=None, fields=fields)


@router.post("/rules", response_class=HTMLResponse)
async def create_rule_form(request: Request, viewer: ViewerDep, session: SessionDep,
                           settings: SettingsDep, form: Annotated[RuleForm, Depends()],
                           csrf: Short = "") -> Response:
    if not csrf_matches(viewer, csrf):
        return csrf_refused(request, viewer, SECTION)
    try:
        created = await create_rule(session, rule=form.rule(), staff_id=viewer.staff_id,
                                    now=utcnow(), rfm_segments=settings.rfm_segments,
                                    locale=viewer.locale)
    except LoyaltyError as error:
        return await _editor(request, viewer, session, settings, rule=None,
                             fields=form.fields, error=error.message,
                             status_code=error.status_code)
    return see_other(f"/console/rules/{created.id}")


async def _live(session: SessionDep, viewer: Viewer, rule_id: str) -> TagRule | None:
    wanted = row_id(rule_id)
    if wanted is None:
        return None
    try:
        return await live_rule(session, wanted, viewer.locale)
    except NotFound:
        return None


def _missing(request: Request, viewer: Viewer) -> HTMLResponse:
    return not_found_page(request, viewer, "console.error.rule_not_found", SECTION)


@router.get("/rules/{rule_id}", response_class=HTMLResponse)
async def rule_page(request: Request, rule_id: str, viewer: ViewerDep, session: SessionDep,
                    settings: SettingsDep) -> HTMLResponse:
    rule = await _live(session, viewer, rule_id)
    if rule is None:
        return _missing(request, viewer)
    return await _editor(request, viewer, session, settings, rule=rule,
                         fields=_saved_fields(rule))


@router.post("/rules/{rule_id}", response_class=HTMLResponse)
async def update_rule_form(request: Request, rule_id: str, viewer: ViewerDep,
                           session: SessionDep, settings: SettingsDep,
                           form: Annotated[RuleForm, Depends()], csrf: Short = "") -> Response:
    if not csrf_matches(viewer, csrf):
        return csrf_refused(request, viewer, SECTION)
    rule = await _live(session, viewer, rule_id)
    if rule is None:
        return _missing(request, viewer)
    try:
        await update_rule(session, rule_id=rule.id, rule=form.rule(), now=utcnow(),
                          rfm_segments=settings.rfm_segments, locale=viewer.locale)
    except (LoyaltyError, NotFound) as error:
        return await _editor(request, viewer, session, settings, rule=rule,
                             fields=form.fields, error=error.message,
                             status_code=error.status_code)
    return see_other(f"/console/rules/{rule.id}")


@router.post("/rules/{rule_id}/active", response_class=HTMLResponse)
async def switch_rule_form(request: Request, rule_id: str, viewer: ViewerDep,
                           session: SessionDep, settings: SettingsDep, csrf: Short = "",
                           active: Short = "") -> Response:
    """Activates (active=on) or deactivates the rule, the rest kept."""
    if not csrf_matches(viewer, csrf):
        return csrf_refused(request, viewer, SECTION)
    rule = await _live(session, viewer, rule_id)
    if rule is None:
        return _missing(request, viewer)
    await update_rule(session, rule_id=rule.id,
                      rule={**_saved_rule(rule), "active": active == "on"}, now=utcnow(),
                      rfm_segments=settings.rfm_segments, locale=viewer.locale)
    return see_other("/console/rules")


@router.get("/rules/{rule_id}/delete", response_class=HTMLResponse)
async def confirm_delete_page(request: Request, rule_id: str, viewer: ViewerDep,
                              session: SessionDep) -> HTMLResponse:
    rule = await _live(session, viewer, rule_id)
    if rule is None:
        return _missing(request, viewer)
    return confirm_page(request, viewer, section=SECTION,
                        question=viewer.text("console.rules.delete_question", name=rule.name),
                        action=f"/console/rules/{rule.id}/delete", back="/console/rules")


@router.post("/rules/{rule_id}/delete", response_class=HTMLResponse)
async def delete_rule_form(request: Request, rule_id: str, viewer: ViewerDep,
                           session: SessionDep, csrf: Short = "") -> Response:
    if not csrf_matches(viewer, csrf):
        return csrf_refused(request, viewer, SECTION)
    rule = await _live(session, viewer, rule_id)
    if rule is None:
        return _missing(request, viewer)
    await delete_rule(session, rule_id=rule.id, now=utcnow(), locale=viewer.locale)
    return see_other("/console/rules")
