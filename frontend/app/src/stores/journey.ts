// Where the borrower is in onboarding and applying (实名 → 联系人 → 绑卡 → 申请 → 签约), as the
// server knows it (the home screen's steps, the verified card, the application in
// progress); each page that completes a step records it here too, so the next page knows
// without asking again.
import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { api, type Schemas } from "../lib/api";

export const STEPS = ["kyc", "contacts", "card", "apply", "sign"] as const;
export type Step = (typeof STEPS)[number];

export interface BoundCard {
  card_id: number;
  bank: string;
  last4: string;
}

export const STEP_ROUTES: Record<Step, string> = {
  kyc: "/onboarding/kyc",
  contacts: "/onboarding/contacts",
  card: "/onboarding/card",
  apply: "/borrow",
  sign: "/borrow",
};

export const useJourney = defineStore("journey", () => {
  const home = ref<Schemas["Home"] | null>(null);
  const steps = ref<Schemas["Steps"]>({ agreements: false, kyc: false, contacts: false, card: false });
  const card = ref<BoundCard | null>(null);
  const loaded = ref(false);

  const verified = computed(() => steps.value.kyc);
  /** The first onboarding step not done yet ("apply" once the card is bound). */
  const next = computed<Step>(() => {
    if (!steps.value.kyc) return "kyc";
    if (!steps.value.contacts) return "contacts";
    if (!steps.value.card) return "card";
    return "apply";
  });
  const onboarded = computed(() => next.value === "apply");

  /** The home screen and the verified card, from the server. */
  async function refresh(): Promise<Schemas["Home"]> {
    const [h, cards] = await Promise.all([api.unwrap(api.typed.GET("/api/v1/borrower/home")), api.unwrap(api.typed.GET("/api/v1/borrower/cards"))]);
    home.value = h;
    steps.value = h.steps;
    const verifiedCard = cards.find((c) => c.status === "verified");
    card.value = verifiedCard ? { card_id: verifiedCard.card_id, bank: verifiedCard.bank, last4: verifiedCard.last4 } : null;
    loaded.value = true;
    return h;
  }
  async function ensure(): Promise<void> {
    if (!loaded.value) await refresh();
  }

  function kycDone(): void {
    steps.value = { ...steps.value, kyc: true };
  }
  function contactsSaved(count: number): void {
    steps.value = { ...steps.value, contacts: count >= 2 };
  }
  function cardBound(bound: Schemas["Card"] | BoundCard): void {
    card.value = { card_id: bound.card_id, bank: bound.bank, last4: bound.last4 };
    steps.value = { ...steps.value, card: true };
  }
  function reset(): void {
    home.value = null;
    card.value = null;
    loaded.value = false;
    steps.value = { agreements: false, kyc: false, contacts: false, card: false };
  }

  return { home, steps, card, loaded, verified, next, onboarded, refresh, ensure, kycDone, contactsSaved, cardBound, reset };
});
