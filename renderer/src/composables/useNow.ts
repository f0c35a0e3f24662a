import { onBeforeUnmount, onMounted, ref } from 'vue';
import type { Ref } from 'vue';

/** The current time, ticking every `intervalMs` while the component is mounted (for uptimes). */
export function useNow(intervalMs = 1000): Ref<number> {
  const now = ref(Date.now());
  let timer: ReturnType<typeof setInterval> | undefined;
  onMounted(() => {
    timer = setInterval(() => (now.value = Date.now()), intervalMs);
  });
  onBeforeUnmount(() => clearInterval(timer));
  return now;
}
