// A product version's definition as the admin API shows and takes it (amounts in yuan
// strings, rates as fraction strings; GET /products/{code}/versions/{version}). Fields the
// form does not edit (allocation_order, version …) pass through as they are.
export interface Definition {
  [field: string]: unknown;
  code: string;
  name: string;
  type: "single" | "installment";
  terms: number[];
  period_unit: "day" | "week" | "month";
  annual_rate: string;
  method: string;
  day_count: string;
  interest_start_days: number;
  repayment_day: number | null;
  upfront_fee_rate: string;
  upfront_fee_mode: string;
  periodic_fee_kind: "rate" | "fixed";
  periodic_fee_value: string;
  grace_days: number;
  interest_free_days: number;
  penalty: { [field: string]: unknown; daily_rate: string; base: string; cap_rate_of_principal: string | null; overdue_fee: string };
  early_settlement: { [field: string]: unknown; allowed: boolean; interest: string; fee_rate: string };
  extension: { [field: string]: unknown; allowed: boolean; fee_rate: string; days: number; max_count: number };
  rate_cap: { [field: string]: unknown; kind: string; lpr: string | null };
  allow_prepayment: boolean;
  age_min: number;
  age_max: number;
  amount_min: string;
  amount_max: string;
  amount_step: string;
}
