"""Messages to borrowers (短信): SMS templates drafted and approved (maker-checker), and
every message the platform sends recorded in its outbox. Imports store, security and
integrations; origination, risk and the API use it."""
