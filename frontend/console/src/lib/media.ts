import { onBeforeUnmount, onMounted, ref, type Ref } from "vue";

/** The console's phone breakpoint (the layout becomes one column below it). */
export const PHONE_QUERY = "(max-width: 768px)";

/** Whether a media query matches, following changes. */
export function useMedia(query = PHONE_QUERY): Ref<boolean> {
  const list = typeof window !== "undefined" && window.matchMedia ? window.matchMedia(query) : null;
  const matches = ref(list?.matches ?? false);
  const update = (event: MediaQueryListEvent) => (matches.value = event.matches);
  onMounted(() => list?.addEventListener("change", update));
  onBeforeUnmount(() => list?.removeEventListener("change", update));
  return matches;
}
