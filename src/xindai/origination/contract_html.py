"""The loan contract as a standalone HTML page (jinja2, every value autoescaped)."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, StrictUndefined, Template

from xindai.money import format_percent
from xindai.origination import contract_data as wording
from xindai.origination.contract_data import ContractData

_TEMPLATE = """\
<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ terms.title_zh }} {{ data.contract_no }}</title>
<style>
  body { font-family: "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
         max-width: 52rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.6; color: #222; }
  h1 { text-align: center; margin-bottom: 0.2rem; }
  .subtitle { text-align: center; color: #666; margin-top: 0; }
  table { border-collapse: collapse; width: 100%; margin: 0.8rem 0; }
  th, td { border: 1px solid #bbb; padding: 0.3rem 0.5rem; vertical-align: top; }
  th { background: #f3f3f3; text-align: left; font-weight: 600; }
  table.schedule td.amount, table.schedule th.amount { text-align: right; }
  table.schedule tfoot td { font-weight: 600; background: #f8f8f8; }
  .apr-disclosure { border: 2px solid #c0392b; background: #fdf2f0; padding: 0.8rem 1rem;
                    margin: 1rem 0; font-size: 1.05rem; }
  .apr-disclosure strong.apr { font-size: 1.4rem; color: #c0392b; }
  .en { color: #555; font-size: 0.9rem; }
  .clause h3 { font-size: 1rem; margin: 1rem 0 0.2rem; }
  .clause p { margin: 0.2rem 0; text-indent: 2em; }
  .signatures td { height: 2.2rem; }
</style>
</head>
<body>
<h1>{{ terms.title_zh }}</h1>
<p class="subtitle">{{ terms.title_en }} · 合同编号 {{ data.contract_no }}</p>

<section class="parties">
<h2>一、合同双方 Parties</h2>
<table>
{% for label, value in parties %}
  <tr><th>{{ label }}</th><td>{{ value }}</td></tr>
{% endfor %}
</table>
</section>

<section class="apr-disclosure" id="apr-disclosure">
  <p>综合年化成本（IRR，含全部利息和费用）：<strong class="apr">{{ apr_nominal }}</strong>
     &nbsp; 实际年化（复利）：<strong>{{ apr_effective }}</strong></p>
  <p>{{ disclosure_zh }}</p>
  <p class="en">{{ disclosure_en }}</p>
</section>

<section class="key-terms">
<h2>二、借款要素 Key terms</h2>
<table>
{% for label, value in key_terms %}
  <tr><th>{{ label }}</th><td>{{ value }}</td></tr>
{% endfor %}
</table>
</section>

<section>
<h2>三、还款计划表 Repayment schedule</h2>
<table class="schedule">
  <thead><tr>
  {% for title in header %}
    <th{% if loop.index > 2 %} class="amount"{% endif %}>{{ title }}</th>
  {% endfor %}
  </tr></thead>
  <tbody>
  {% for row in rows %}
    <tr class="installment">
    {% for cell in row %}
      <td{% if loop.index > 2 %} class="amount"{% endif %}>{{ cell }}</td>
    {% endfor %}
    </tr>
  {% endfor %}
  </tbody>
  <tfoot><tr>
  {% for cell in totals %}
    <td{% if loop.index > 2 %} class="amount"{% endif %}>{{ cell }}</td>
  {% endfor %}
  </tr></tfoot>
</table>
<p class="en">金额单位：元 Amounts in yuan.</p>
</section>

<section class="general-terms">
<h2>四、通用条款 General terms（v{{ terms.version }}）</h2>
<p>{{ terms.preamble_zh }}</p>
{% for number, clause in clauses %}
<div class="clause">
  <h3>{{ number }} {{ clause.heading_zh }}</h3>
  {% for paragraph in clause.paragraphs_zh %}
  <p>{{ paragraph }}</p>
  {% endfor %}
</div>
{% endfor %}
<p class="en">{{ terms.summary_en }}</p>
</section>

<section>
<h2>五、签署 Signatures</h2>
<table class="signatures">
{% for label, value in signatures %}
  <tr><th>{{ label }}</th><td>{{ value }}</td></tr>
{% endfor %}
</table>
</section>
</body>
</html>
"""


@cache
def _template() -> Template:
    environment = Environment(
        autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    return environment.from_string(_TEMPLATE)


def render_contract_html(data: ContractData) -> str:
    """The contract as an HTML document (UTF-8); every value is HTML-escaped."""
    terms = data.terms
    disclosure_zh, disclosure_en = wording.cost_disclosure(data)
    return _template().render(
        data=data,
        terms=terms,
        parties=wording.parties(data),
        key_terms=wording.key_terms(data),
        apr_nominal=format_percent(data.apr_nominal),
        apr_effective=format_percent(data.apr_effective),
        disclosure_zh=disclosure_zh,
        disclosure_en=disclosure_en,
        header=wording.SCHEDULE_HEADER,
        rows=wording.schedule_rows(data),
        totals=wording.schedule_totals(data),
        clauses=terms.numbered_clauses(),
        signatures=wording.signatures(data),
    )
