"""The LINE Messaging API adapter: webhook signatures, event parsing, rendering to
LINE message objects, the httpx sender and the rich menu."""
