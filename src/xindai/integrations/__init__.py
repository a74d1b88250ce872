"""External services (SPEC §12): ports, HTTP adapters, callback signing and local simulators.

May import `xindai.errors`, `xindai.money`, `xindai.dates`, `xindai.risk.antifraud.bureau`.
"""
