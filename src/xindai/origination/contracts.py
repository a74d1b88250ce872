"""Loan contracts (借款合同): the contract's data built from a schedule, a product and its
annualised cost, rendered as HTML and as PDF with the prominent cost disclosure."""

from __future__ import annotations

from xindai.origination.contract_data import ContractData, contract_data_from
from xindai.origination.contract_html import render_contract_html
from xindai.origination.contract_pdf import render_contract_pdf

__all__ = ["ContractData", "contract_data_from", "render_contract_html", "render_contract_pdf"]
