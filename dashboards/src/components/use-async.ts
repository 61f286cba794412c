import { onBeforeUnmount, ref, shallowRef, type Ref, type ShallowRef } from 'vue';
import { ApiError, messageOf } from '../api/client.js';

export interface AsyncState<T> {
  data: ShallowRef<T | undefined>;
  loading: Ref<boolean>;
  error: Ref<string | undefined>;
  /** The failed request's HTTP status (404 means "this API or record does not exist"). */
  errorStatus: Ref<number | undefined>;
  reload(): Promise<void>;
}

/**
 * Loads `fn` and tracks loading / error; a newer load cancels an older one, so a slow answer never
 * overwrites a fresher one.
 */
export function useAsync<T>(fn: (signal: AbortSignal) => Promise<T>, options: { immediate?: boolean } = {}): AsyncState<T> {
  const data = shallowRef<T>();
  const loading = ref(false);
  const error = ref<string>();
  const errorStatus = ref<number>();
  let controller: AbortController | undefined;
  async function reload(): Promise<void> {
    controller?.abort();
    const mine = new AbortController();
    controller = mine;
    loading.value = true;
    error.value = undefined;
    errorStatus.value = undefined;
    try {
      const value = await fn(mine.signal);
      if (controller === mine) data.value = value;
    } catch (err) {
      if (controller !== mine || (err instanceof DOMException && err.name === 'AbortError')) return;
      error.value = messageOf(err);
      errorStatus.value = err instanceof ApiError ? err.status : undefined;
    } finally {
      if (controller === mine) loading.value = false;
    }
  }
  onBeforeUnmount(() => controller?.abort());
  if (options.immediate !== false) void reload();
  return { data, loading, error, errorStatus, reload };
}
