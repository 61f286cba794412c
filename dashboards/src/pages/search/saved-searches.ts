/** Saved searches live in this browser (localStorage): a name and the query string of the search. */
export interface SavedSearch {
  name: string;
  query: Record<string, string>;
  savedAt: string;
}

const KEY = 'qs.savedSearches.v1';

export function loadSavedSearches(): SavedSearch[] {
  try {
    const raw = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(raw) ? raw.filter((s): s is SavedSearch => typeof s?.name === 'string' && typeof s?.query === 'object') : [];
  } catch {
    return [];
  }
}

export function storeSavedSearches(list: readonly SavedSearch[]): void {
  localStorage.setItem(KEY, JSON.stringify(list.slice(0, 50)));
}
