"""The customer's conversation: one function per intent, in any platform's words."""
