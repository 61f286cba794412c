import { api } from '../../api/client.js';
import type { Alert } from '../../api/types.js';

export interface WallView {
  counts: { byLevel: Record<string, number>; byStatus: Record<string, number>; open: number; total: number };
  alerts: Alert[];
  generatedAt: string;
}

export function fetchWall(filters: { level?: number[]; status?: string[] }, signal?: AbortSignal): Promise<WallView> {
  return api<WallView>('/api/wall', {
    query: { limit: 200, level: filters.level?.join(','), status: filters.status?.join(',') },
    signal,
  });
}
