"""The Messenger adapter: webhook signature and subscription checks, the parser into
`InboundEvent`s, rendering to Send API templates, the httpx sender and the page profile
(Get Started button, persistent menu, greeting)."""
