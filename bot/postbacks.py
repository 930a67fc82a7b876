"""Postback payloads the bot's own buttons, quick replies and menus carry: written by the
conversation and by outreach in broadcast/, read back by the conversation's routing."""

CARD, STAMPS, REWARDS, INVITE, HELP = "card", "stamps", "rewards", "invite", "help"
CONSENT_YES, CONSENT_NO = "consent:yes", "consent:no"
STOP, START = "stop", "start"
DELETE_ASK, DELETE_YES, DELETE_NO = "delete", "delete:yes", "delete:no"
LANGUAGE, LINK, BIRTHDAY = "language", "link", "birthday"
SET_LOCALE_PREFIX = "lang:"
