"""Origination (贷前进件): registration, OTP, KYC, agreements, applications, contracts, payout.
Imports the core (money, dates, products, schedules, risk) and store; never api/ or cli/.
"""
