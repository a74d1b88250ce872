// The workbench's case (one per open case tab: the console keeps several pages alive): its detail (GET /cases/{id}), every action posted from the screen
// (the detail is read again after each, so the history, contacts and guardrail counters are
// the server's), and the last refusal of the guardrails — its code and zh-CN / English
// message — kept until the next action succeeds, so the collector sees why nothing was
// logged or sent.
import { ref } from "vue";
import type { Schemas } from "@shared/api/client";
import type { Localized } from "@shared/i18n";
import { api, ApiError } from "@/lib/api";
import { COLL, isGuardrail, type CaseDetail, type CaseRow } from "./model";

export interface Refusal {
  code: string;
  message: Localized;
  status: number;
  /** What was refused: call, sms, promise, visit … or a pre-dial check. */
  action: string;
  /** Asked before dialling (nothing was attempted) rather than refused on the call. */
  checked: boolean;
}

export function caseWork(caseId: number) {
  const id = ref<number>(caseId);
  const detail = ref<CaseDetail | null>(null);
  const loading = ref(false);
  const error = ref<unknown>(null);
  const busy = ref<string | null>(null);
  const refusal = ref<Refusal | null>(null);
  let sequence = 0;

  async function reload(): Promise<void> {
    const mine = ++sequence;
    loading.value = true;
    error.value = null;
    try {
      const answer = await api.request<CaseDetail>("GET", `${COLL}/cases/${id.value}`);
      if (mine === sequence) detail.value = answer;
    } catch (cause) {
      if (mine === sequence) error.value = cause;
    } finally {
      if (mine === sequence) loading.value = false;
    }
  }

  /** POST an action (`calls`, `sms`, `promises`, `letters`, `visits`, `legal`, `quadrant`,
   * `hold`, `offers/<kind>`): its answer, or null when the guardrails refused it (then
   * `refusal` says why). Other errors are thrown. */
  async function act<T = unknown>(action: string, body: object, method: "POST" | "DELETE" = "POST"): Promise<T | null> {
    busy.value = action;
    try {
      const answer = await api.request<T>(method, `${COLL}/cases/${id.value}/${action}`, method === "POST" ? { body } : {});
      refusal.value = null;
      await reload();
      return answer;
    } catch (cause) {
      if (isGuardrail(cause)) {
        refusal.value = { code: cause.code, message: cause.messages, status: cause.status, action, checked: false };
        await reload();
        return null;
      }
      throw cause;
    } finally {
      busy.value = null;
    }
  }

  /** Ask the guardrails before dialling or sending (nothing is logged): true when allowed. */
  async function check(kind: "call" | "sms", contact: string, consented = false): Promise<boolean> {
    const body: Schemas["CheckBody"] = { kind, contact, debtor_consented: consented };
    const answer = await api.request<{ allowed: boolean; code?: string; message?: Localized }>("POST", `${COLL}/cases/${id.value}/check`, { body });
    if (answer.allowed) {
      if (refusal.value?.checked) refusal.value = null;
      return true;
    }
    refusal.value = { code: answer.code ?? "", message: answer.message ?? { "zh-CN": "", en: "" }, status: 409, action: kind, checked: true };
    return false;
  }

  function dismiss(): void {
    refusal.value = null;
  }

  return { id, detail, loading, error, busy, refusal, reload, act, check, dismiss };
}

export type CaseWork = ReturnType<typeof caseWork>;

/** My next case (GET /next): the open case in my scope with the highest priority that is
 * workable today, or null. */
export async function nextCase(): Promise<CaseRow | null> {
  const answer = await api.request<{ case: CaseRow | null }>("GET", `${COLL}/next`);
  return answer.case;
}

export { ApiError };
