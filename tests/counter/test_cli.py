"""`punchline store|staff|program` against a temporary SQLite database."""

import asyncio

from sqlalchemy import select
from typer.testing import CliRunner

import cli
from core.db import Database
from loyalty.demo import seed_demo
from loyalty.models import PosKey, Program, StaffAccount, StaffStore, Store
from loyalty.pos_keys import authenticate_pos_key
from loyalty.staff import authenticate_staff
from tests.databases import run_in_thread

runner = CliRunner()


def query(url, work):
    async def run():
        database = Database(url)
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.dispose()

    return run_in_thread(run())


def invoke(*args, input=None):
    result = runner.invoke(cli.app, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result


def test_store_add_prints_the_new_stores_id(database_url):
    store_id = int(invoke("store", "add", "Daan", "--timezone", "Asia/Tokyo").stdout)
    store = query(database_url, lambda s: s.get(Store, store_id))
    assert (store.name, store.timezone, store.active) == ("Daan", "Asia/Tokyo", True)


def test_store_add_refuses_an_unknown_time_zone(database_url):
    result = runner.invoke(cli.app, ["store", "add", "Daan", "--timezone", "Mars/Olympus"])
    assert result.exit_code == 1
    assert query(database_url, lambda s: s.scalar(select(Store))) is None


def test_store_key_prints_a_working_key_once(database_url):
    store_id = int(invoke("store", "add", "Daan").stdout)
    key = invoke("store", "key", str(store_id)).stdout.strip()
    found = query(database_url, lambda s: authenticate_pos_key(s, key))
    assert found is not None and found.store_id == store_id
    stored = query(database_url, lambda s: s.scalar(select(PosKey)))
    assert key.split(".")[1] not in (stored.secret_sha256, stored.prefix)


def test_store_key_for_an_unknown_store_fails(database_url):
    assert runner.invoke(cli.app, ["store", "key", "99"]).exit_code == 1


def test_staff_add_with_a_generated_password_prints_it_once(database_url):
    store_id = invoke("store", "add", "Daan").stdout.strip()
    result = invoke("staff", "add", "Amy", "--role", "manager", "--store", store_id,
                    "--generate-password")
    [line] = [line for line in result.stdout.splitlines() if line.startswith("password: ")]
    password = line.removeprefix("password: ")
    assert result.stdout.count(password) == 1
    staff = query(database_url,
                  lambda s: authenticate_staff(s, username="amy", password=password))
    assert staff is not None and staff.role == "manager"
    works_at = query(database_url, lambda s: s.scalar(
        select(StaffStore.store_id).where(StaffStore.staff_id == staff.id)))
    assert works_at == int(store_id)


def test_staff_add_asks_for_the_password_without_printing_it(database_url):
    result = invoke("staff", "add", "bob", "--role", "staff", input="s3cret pw\ns3cret pw\n")
    assert "s3cret" not in result.stdout
    assert query(database_url,
                 lambda s: authenticate_staff(s, username="bob", password="s3cret pw"))


def test_staff_add_refuses_an_unknown_role_and_a_taken_username(database_url):
    assert runner.invoke(cli.app, ["staff", "add", "amy", "--role", "boss",
                                   "--generate-password"]).exit_code == 1
    invoke("staff", "add", "amy", "--role", "staff", "--generate-password")
    again = runner.invoke(cli.app, ["staff", "add", "amy", "--role", "staff",
                                    "--generate-password"])
    assert again.exit_code == 1
    assert len(query(database_url, lambda s: s.scalars(select(StaffAccount)))
               .all()) == 1


def test_program_show_prints_the_rules_in_force(database_url):
    output = invoke("program", "show").stdout
    assert "stamps_required" in output and "免費飲料" in output and "cooldown_hours" in output


def test_program_set_starts_a_new_version_with_the_changed_rules(database_url):
    output = invoke("program", "set", "--stamps-required", "5", "--reward-en", "a cake",
                    "--cooldown-hours", "0").stdout
    assert "a cake" in output
    programs = query(database_url,
                     lambda s: s.scalars(select(Program).order_by(Program.id))).all()
    newest = programs[-1]
    assert len(programs) == 2
    assert (newest.stamps_required, newest.cooldown_hours) == (5, 0)
    assert newest.reward_name == {"zh-TW": "免費飲料", "en": "a cake"}


def test_program_set_refuses_invalid_rules(database_url):
    result = runner.invoke(cli.app, ["program", "set", "--stamps-required", "0"])
    assert result.exit_code == 1
    assert len(query(database_url, lambda s: s.scalars(select(Program))).all()) == 1


def test_the_demo_seed_can_run_twice_and_its_logins_and_key_work(database_url):
    asyncio.run(seed_demo(database_url))
    seeded = asyncio.run(seed_demo(database_url))
    rows = seeded.describe() + seeded.credentials()
    assert all(isinstance(label, str) and isinstance(value, str) for label, value in rows)
    assert seeded.pos_key in [value for _, value in rows]
    assert len(query(database_url, lambda s: s.scalars(select(Store))).all()) == 2
    for username, _role, password in seeded.logins:
        assert query(database_url, lambda s, u=username, p=password: authenticate_staff(
            s, username=u, password=p))
    assert query(database_url, lambda s: authenticate_pos_key(s, seeded.pos_key))


def test_program_set_bounds_the_stamps_of_one_visit_and_show_prints_it(database_url):
    output = invoke("program", "set", "--spend-per-stamp", "10000",
                    "--max-stamps-per-visit", "4").stdout
    assert "max_stamps_per_visit" in output
    newest = query(database_url,
                   lambda s: s.scalars(select(Program).order_by(Program.id.desc()))).first()
    assert (newest.spend_per_stamp, newest.max_stamps_per_visit) == (10000, 4)
    refused = runner.invoke(cli.app, ["program", "set", "--max-stamps-per-visit", "0"])
    assert refused.exit_code == 1
