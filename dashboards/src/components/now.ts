import { onBeforeUnmount, ref, type Ref } from 'vue';

const now = ref(Date.now());
let users = 0;
let timer: ReturnType<typeof setInterval> | undefined;

/** One shared clock ticking each second for every countdown on screen. */
export function useNow(): Ref<number> {
  users++;
  if (!timer) timer = setInterval(() => (now.value = Date.now()), 1000);
  onBeforeUnmount(() => {
    users--;
    if (users === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  });
  return now;
}
