"""Signing in to the staff page: passwords, roles, stores, cookies, CSRF, lockouts."""

from http.cookies import SimpleCookie

import httpx

from core.db import Database
from core.settings import Settings
from handlers.staff.session import SESSION_COOKIE
from loyalty.models import StaffAccount
from loyalty.staff import set_staff_password
from tests.staff.shop import PASSWORD, login_form_token, page_csrf, post_login, sign_in, staff_shop


def session_cookie(response: httpx.Response) -> SimpleCookie:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{SESSION_COOKIE}="):
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            return cookie
    raise AssertionError(f"no session cookie in {response.headers.get_list('set-cookie')}")


def sets_session(response: httpx.Response) -> bool:
    return any(h.startswith(f"{SESSION_COOKIE}=") for h in response.headers.get_list("set-cookie"))


def set_cookie_header(response: httpx.Response) -> str:
    return next(h for h in response.headers.get_list("set-cookie")
                if h.startswith(f"{SESSION_COOKIE}="))


async def test_a_barista_signs_in_and_gets_the_counter(db: Database, settings: Settings) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        async with shop.client() as browser:
            response = await post_login(browser, "Amy ")
            assert response.status_code == 303
            assert response.headers["location"] == "/staff/"
            counter = await browser.get("/staff/")
    assert counter.status_code == 200
    assert "集點 +1" in counter.text
    assert "Daan · amy" in counter.text
    assert counter.headers["cache-control"] == "no-store"
    assert counter.headers["x-frame-options"] == "DENY"


async def test_a_wrong_password_or_unknown_user_is_refused_alike(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        async with shop.client() as browser:
            wrong_password = await post_login(browser, "amy", "not the password")
            unknown_user = await post_login(browser, "nobody", PASSWORD)
            counter = await browser.get("/staff/")
    for response in (wrong_password, unknown_user):
        assert response.status_code == 401
        assert "帳號或密碼錯誤" in response.text
        assert not sets_session(response)
    assert counter.status_code == 303
    assert counter.headers["location"] == "/staff/login"


async def test_the_session_cookie_is_http_only_lax_and_not_secure_over_http(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        async with shop.client() as browser:
            response = await post_login(browser, "amy")
    cookie = session_cookie(response)[SESSION_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"  # one sign-in for the counter and the console
    assert not cookie["secure"]
    assert "secure" not in set_cookie_header(response).lower().split("; ")


async def test_the_session_cookie_is_secure_when_the_site_is_https(
    db: Database, settings: Settings
) -> None:
    https = settings.model_copy(update={"public_base_url": "https://shop.example"})
    async with staff_shop(https, db) as shop:
        await shop.add_staff("amy")
        async with shop.client(scheme="https") as browser:
            response = await post_login(browser, "amy")
    assert response.status_code == 303
    assert session_cookie(response)[SESSION_COOKIE]["secure"] is True


async def test_a_marketer_signs_in_to_the_console_and_is_refused_at_the_counter(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("mia", role="marketer", store_ids=[])
        async with shop.client() as browser:
            response = await post_login(browser, "mia")
            counter = await browser.get("/staff/")
            stores = await browser.get("/staff/store")
            report = await browser.get("/staff/report", follow_redirects=True)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/"
    assert sets_session(response)
    for refused in (counter, stores, report):
        assert refused.status_code == 403
        assert "行銷後台" in refused.text
        assert 'href="/console/"' in refused.text


async def test_an_account_without_a_store_is_refused(db: Database, settings: Settings) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy", store_ids=[])
        async with shop.client() as browser:
            response = await post_login(browser, "amy")
    assert response.status_code == 403
    assert "尚未指派門市" in response.text


async def test_staff_of_several_stores_choose_where_they_work(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        xinyi = await shop.add_store("Xinyi")
        elsewhere = await shop.add_store("Banqiao")
        await shop.add_staff("amy", store_ids=[shop.store_id, xinyi])
        async with shop.client() as browser:
            response = await post_login(browser, "amy")
            assert response.headers["location"] == "/staff/store"
            before_choice = await browser.get("/staff/")
            choices = await browser.get("/staff/store")
            csrf = choices.text.split('name="csrf" value="')[1].split('"')[0]
            not_mine = await browser.post("/staff/store",
                                          data={"store_id": str(elsewhere), "csrf": csrf})
            chosen = await browser.post("/staff/store", data={"store_id": str(xinyi), "csrf": csrf})
            counter = await browser.get("/staff/")
    assert before_choice.headers["location"] == "/staff/store"
    assert "Daan" in choices.text and "Xinyi" in choices.text and "Banqiao" not in choices.text
    assert not_mine.status_code == 403
    assert chosen.status_code == 303
    assert "Xinyi · amy" in counter.text


async def test_an_admin_may_work_at_any_store(db: Database, settings: Settings) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_store("Xinyi")
        await shop.add_staff("root", role="admin", store_ids=[])
        async with shop.client() as browser:
            response = await post_login(browser, "root")
            counter = await browser.get("/staff/")
            choices = await browser.get("/staff/store")
    # An admin lands on the console; the counter asks where they work today.
    assert response.headers["location"] == "/console/"
    assert counter.headers["location"] == "/staff/store"
    assert "Daan" in choices.text and "Xinyi" in choices.text


async def test_login_without_the_forms_csrf_token_is_refused(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        async with shop.client() as browser:
            await login_form_token(browser)  # the cookie half is there, the form half is not
            forged = await browser.post("/staff/login",
                                        data={"username": "amy", "password": PASSWORD})
        async with shop.client() as cross_site:
            no_cookie = await cross_site.post(
                "/staff/login", data={"username": "amy", "password": PASSWORD, "csrf": "guess"})
    assert forged.status_code == 403
    assert no_cookie.status_code == 403
    assert not sets_session(forged)


async def test_store_choice_and_logout_need_the_sessions_csrf_token(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        xinyi = await shop.add_store("Xinyi")
        await shop.add_staff("amy", store_ids=[shop.store_id, xinyi])
        async with shop.client() as browser:
            await post_login(browser, "amy")
            choice = await browser.post("/staff/store", data={"store_id": str(xinyi)})
            logout = await browser.post("/staff/logout", data={"csrf": "wrong"})
            still_in = await browser.get("/staff/store")
    assert choice.status_code == 403
    assert logout.status_code == 403
    assert still_in.status_code == 200


async def test_logout_ends_the_session(db: Database, settings: Settings) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        async with shop.client() as browser:
            csrf = await sign_in(browser, "amy")
            response = await browser.post("/staff/logout", data={"csrf": csrf})
            counter = await browser.get("/staff/")
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login"
    assert counter.headers["location"] == "/staff/login"


async def test_a_changed_password_or_a_deactivated_account_ends_its_sessions(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        amy = await shop.add_staff("amy")
        bob = await shop.add_staff("bob")
        async with shop.client() as amys_phone, shop.client() as bobs_phone:
            await sign_in(amys_phone, "amy")
            await sign_in(bobs_phone, "bob")
            async with db.transaction() as session:
                await set_staff_password(session, staff_id=amy, password="a new password")
                account = await session.get(StaffAccount, bob)
                assert account is not None
                account.active = False
            amy_counter = await amys_phone.get("/staff/")
            bob_counter = await bobs_phone.get("/staff/")
    assert amy_counter.headers["location"] == "/staff/login"
    assert bob_counter.headers["location"] == "/staff/login"


async def test_twenty_failures_from_an_attacker_do_not_lock_the_real_user_out(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        async with shop.client("10.0.1.66") as attacker:
            guesses = [(await post_login(attacker, "amy", "guess")).status_code
                       for _ in range(20)]
        async with shop.client("10.0.2.1") as real_amy:
            signed_in = await post_login(real_amy, "amy")
    assert guesses[:3] == [401] * 3
    assert 429 in guesses  # slowed: the waits grow faster than the guesses come
    assert signed_in.status_code == 303


async def test_successful_logins_never_count_toward_a_limit(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        async with shop.client("10.0.2.1") as phone:
            statuses = [(await post_login(phone, "amy")).status_code for _ in range(40)]
    assert statuses == [303] * 40


async def test_an_address_is_locked_after_too_many_attempts_on_any_accounts(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        async with shop.client("10.0.3.1") as attacker:
            statuses = [(await post_login(attacker, f"user{n}", "guess")).status_code
                        for n in range(30)]
            locked = await post_login(attacker, "amy")
        async with shop.client("10.0.3.2") as elsewhere:
            allowed = await post_login(elsewhere, "amy")
    assert statuses == [401] * 30
    assert locked.status_code == 429
    assert allowed.status_code == 303


async def test_the_page_follows_the_browser_language_and_the_staffs_choice(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        async with shop.client() as browser:
            english = await browser.get("/staff/login", headers={"Accept-Language": "en-US,en"})
            switched = await browser.get("/staff/lang/zh-TW?next=/staff/login")
            chinese = await browser.get("/staff/login", headers={"Accept-Language": "en-US,en"})
            outside = await browser.get("/staff/lang/en?next=https://evil.example/")
            await sign_in(browser, "amy")
            csrf = await page_csrf(browser)
    assert "Staff sign-in" in english.text
    assert switched.headers["location"] == "/staff/login"
    assert "店員登入" in chinese.text
    assert outside.headers["location"] == "/staff/"
    assert csrf
