import { onBeforeUnmount, ref, type Ref } from 'vue';

export interface LiveAlertEvent {
  alertId: string;
  outcome?: string;
  level?: number;
  status?: string;
  [key: string]: unknown;
}

/**
 * Subscribes to GET /api/live (server-sent events). EventSource reconnects by itself after the
 * server's `retry:`; `connected` tells the wall whether it is live.
 */
export function useLiveAlerts(onEvent: (e: LiveAlertEvent) => void): { connected: Ref<boolean> } {
  const connected = ref(false);
  const source = new EventSource('/api/live');
  source.onopen = () => (connected.value = true);
  source.onerror = () => (connected.value = false);
  const handle = (msg: MessageEvent<string>) => {
    try {
      const data = JSON.parse(msg.data) as LiveAlertEvent;
      if (data && typeof data.alertId === 'string') onEvent(data);
    } catch {
      // A malformed event is ignored; the next refresh shows the truth anyway.
    }
  };
  source.addEventListener('alert', handle);
  source.addEventListener('message', handle);
  onBeforeUnmount(() => source.close());
  return { connected };
}
