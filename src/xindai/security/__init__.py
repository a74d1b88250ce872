"""Security: personal-data encryption and masking, passwords, TOTP, SMS codes, bearer tokens,
roles and permissions, staff login and the audit log. Imports the core and store, never api/cli.
"""
