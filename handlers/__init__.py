"""The edge: webhook receivers, the conversation, pages and APIs."""
