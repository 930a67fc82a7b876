"""The chat platforms: neutral event and message types, the Sender interface, the LINE
and Messenger adapters, the sandbox platforms and the chat simulator. No database."""
