// Small dialogs every page uses: ask for a reason, confirm, and show an API error in the
// user's language with its code.
import { ElMessage, ElMessageBox } from "element-plus";
import "element-plus/es/components/message/style/css";
import "element-plus/es/components/message-box/style/css";
import { pick } from "@shared/i18n";
import { i18n } from "@/i18n";
import { ApiError } from "./api";

function t(key: string, values?: Record<string, unknown>): string {
  return values ? i18n.global.t(key, values) : i18n.global.t(key);
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    const locale = i18n.global.locale.value === "en" ? "en" : "zh-CN";
    return `${pick(error.messages, locale)} (${error.code})`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function showError(error: unknown): void {
  ElMessage({ type: "error", message: errorText(error), duration: 6000, showClose: true });
}

export function done(key = "common.done", values?: Record<string, unknown>): void {
  ElMessage.success(t(key, values));
}

/** A reason typed by the user, or null when cancelled. */
export async function askReason(titleKey: string, label = "common.reason"): Promise<string | null> {
  try {
    const { value } = await ElMessageBox.prompt(t(label), t(titleKey), {
      confirmButtonText: t("common.confirm"),
      cancelButtonText: t("common.cancel"),
      inputValidator: (v: string) => (v && v.trim().length > 0) || t("common.reasonRequired"),
      inputType: "textarea",
    });
    return String(value).trim();
  } catch {
    return null;
  }
}

export async function confirm(messageKey: string, values?: Record<string, unknown>): Promise<boolean> {
  try {
    await ElMessageBox.confirm(t(messageKey, values), t("common.confirmTitle"), {
      confirmButtonText: t("common.confirm"),
      cancelButtonText: t("common.cancel"),
      type: "warning",
    });
    return true;
  } catch {
    return false;
  }
}
