"""Reports (报表统计) read from the daily snapshots and the journal: the overview, the trial
balance. Stands above servicing, origination and the ledger; only api/ and cli/ import it."""
