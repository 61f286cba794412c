import { api } from '../../api/client.js';
import type { Alert } from '../../api/types.js';

export type WallAlert = Omit<Alert, 'hits' | 'timeline' | 'notifications' | 'firedClocks' | 'evidence' | 'explanation' | 'plan' | 'postIds' | 'levelExplanation'>;

export interface WallView {
  counts: { byLevel: Record<string, number>; byStatus: Record<string, number>; open: number; total: number };
  /** The wall's read model leaves out each alert's history (pipeline/elasticsearch/es-alert-board.ts). */
  alerts: WallAlert[];
  generatedAt: string;
}

let early: { at: number; view: Promise<WallView> } | undefined;

/**
 * Started by main.ts when the app opens on the wall, in parallel with the session check and the
 * route's code, so the wall's data is on its way before its component exists.
 */
export function prefetchWall(): void {
  early = { at: Date.now(), view: requestWall({}, undefined, 'high') };
  early.view.catch(() => undefined);
}

export function fetchWall(filters: { level?: number[]; status?: string[] }, signal?: AbortSignal): Promise<WallView> {
  const unfiltered = !filters.level?.length && !filters.status?.length;
  if (unfiltered && early && Date.now() - early.at < 5000) {
    const { view } = early;
    early = undefined;
    return view;
  }
  return requestWall(filters, signal);
}

function requestWall(filters: { level?: number[]; status?: string[] }, signal?: AbortSignal, priority?: RequestPriority): Promise<WallView> {
  return api<WallView>('/api/wall', {
    query: { limit: 200, level: filters.level?.join(','), status: filters.status?.join(',') },
    signal,
    priority,
  });
}
