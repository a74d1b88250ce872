"""Post-loan and collections (贷后 / 催收, SPEC §8): reminders, cases and queues, allocation,
agencies and placements, contacts under the guardrails, promises, strategies, skip tracing
and KPIs. Stands above servicing, origination and messaging; only api/ and cli/ import it."""
