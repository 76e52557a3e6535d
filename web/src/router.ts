/**
 * The dashboard's place in the URL: the page is the path (`/activity`, `/audit`, ...) and its
 * filters are the query string, written with the history API so back and forward work and a
 * link can be shared. Pages read `useLocation()` and change it with `navigate` or `useQuery`.
 */
import { useCallback, useSyncExternalStore } from 'react';

const NAVIGATED = 'hegui:navigate';

function subscribe(listener: () => void): () => void {
  window.addEventListener('popstate', listener);
  window.addEventListener(NAVIGATED, listener);
  return () => {
    window.removeEventListener('popstate', listener);
    window.removeEventListener(NAVIGATED, listener);
  };
}

const snapshot = (): string => location.pathname + location.search;

/** Goes to `to` (a path with its query), as a new history entry unless `replace`. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = new URL(to, location.href);
  if (url.pathname + url.search === snapshot()) return;
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event(NAVIGATED));
}

/** The current path and query; re-renders on navigation, back and forward. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const current = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(current, 'http://x');
  return { path: url.pathname, query: url.searchParams };
}

/**
 * This page's query parameters and a setter: `set({ range: '1h', from: null })` keeps the path,
 * sets or (with null or '') removes each name, and pushes a history entry (or replaces it).
 */
export function useQuery(): [URLSearchParams, (changes: Record<string, string | null | undefined>, options?: { replace?: boolean }) => void] {
  const { query } = useLocation();
  const set = useCallback((changes: Record<string, string | null | undefined>, options: { replace?: boolean } = {}) => {
    const next = new URLSearchParams(location.search);
    for (const [name, value] of Object.entries(changes)) {
      if (value === null || value === undefined || value === '') next.delete(name);
      else next.set(name, value);
    }
    const search = next.toString();
    navigate(`${location.pathname}${search ? `?${search}` : ''}`, options);
  }, []);
  return [query, set];
}
