from bot.messenger.verification import check_subscription

TOKEN = "verify-me"


def _params(**overrides: str) -> dict[str, str]:
    params = {"hub.mode": "subscribe", "hub.verify_token": TOKEN, "hub.challenge": "1158201444"}
    params.update(overrides)
    return params


def test_a_subscription_with_our_token_gets_its_challenge_back() -> None:
    assert check_subscription(_params(), TOKEN) == "1158201444"


def test_a_wrong_token_is_refused() -> None:
    assert check_subscription(_params(**{"hub.verify_token": "guess"}), TOKEN) is None


def test_another_mode_is_refused() -> None:
    assert check_subscription(_params(**{"hub.mode": "unsubscribe"}), TOKEN) is None


def test_missing_parameters_are_refused() -> None:
    assert check_subscription({}, TOKEN) is None
    assert check_subscription({"hub.mode": "subscribe", "hub.challenge": "1"}, TOKEN) is None


def test_an_empty_configured_token_matches_nothing() -> None:
    assert check_subscription(_params(**{"hub.verify_token": ""}), "") is None


def test_a_non_ascii_token_is_compared_without_error() -> None:
    assert check_subscription(_params(**{"hub.verify_token": "密碼"}), TOKEN) is None
    assert check_subscription(_params(**{"hub.verify_token": "密碼"}), "密碼") == "1158201444"
