/**
 * The dashboard's calls to the server, typed after the JSON the API returns.
 */
export interface Bilingual {
  zh: string;
  en: string;
}

export interface Figure {
  kind: 'within' | 'at-least' | 'at-most' | 'exactly';
  value: number;
  unit: string;
  of?: Bilingual;
}

export interface Obligation {
  id: string;
  instrument: string;
  article: number;
  paragraph?: number;
  item?: number;
  clause?: string;
  summary: Bilingual;
  role: string;
  deadline: Figure | null;
  evidence: Bilingual;
  control: string;
  binding: 'mandatory' | 'recommended' | 'soft-law';
  citationCheck: 'official-text' | 'secondary' | 'unverified';
  alternatives?: string[];
  /** Present when the duty applies only because profile facts are unknown. */
  assumed?: { unknown: string[]; liftedBy: { field: string; text: string }[] };
}

export interface InstrumentInfo {
  id: string;
  name: Bilingual;
  short: Bilingual;
  hierarchy: string;
  status: string;
}

export interface ObligationsResponse {
  date: string;
  obligations: Obligation[];
  upcoming: (Obligation & { effective: string; reason: Bilingual })[];
  excluded: { instrument: string; status: string; reason: Bilingual }[];
  withoutItemisedDuties: { instrument: string; binding: Obligation['binding']; reason: Bilingual; effective?: string }[];
  unknownFacts: string[];
  instruments: InstrumentInfo[];
  profile: { source: string; provider: string; service: string | null };
}

export interface OperatorInfo {
  id: string;
  name: string;
  role: 'admin' | 'reviewer' | 'auditor';
  hasPassword: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The server's stable error code (`E_...`), or `E_HTTP_<status>` when the answer had none. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Raised when the server could not be reached at all. */
export class NetworkError extends Error {
  override name = 'NetworkError';
}

const UNAUTHORIZED = 'hegui:unauthorized';

/** Runs `listener` whenever an API call is answered 401 (the session expired or was ended). */
export function onUnauthorized(listener: () => void): () => void {
  window.addEventListener(UNAUTHORIZED, listener);
  return () => window.removeEventListener(UNAUTHORIZED, listener);
}

let watching = false;

/**
 * Watches every `fetch` to `/api/` for a 401 `E_AUTH_REQUIRED`, so any page (whatever helper it
 * calls the server with) lands back on sign-in when the session ends. Other 401s (a wrong
 * password at sign-in or when changing it) are answers to the form, not an ended session.
 */
export function watchUnauthorized(): void {
  if (watching) return;
  watching = true;
  const original = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const response = await original(input, init);
    if (response.status === 401) {
      const url = new URL(input instanceof Request ? input.url : String(input), location.href);
      if (url.origin === location.origin && url.pathname.startsWith('/api/')) {
        const body = (await response
          .clone()
          .json()
          .catch(() => null)) as { error?: { code?: string } } | null;
        if (body?.error?.code === 'E_AUTH_REQUIRED') window.dispatchEvent(new Event(UNAUTHORIZED));
      }
    }
    return response;
  };
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new NetworkError((error as Error).message);
  }
  if (!response.ok) {
    const error = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new ApiError(response.status, error?.error?.code ?? `E_HTTP_${response.status}`, error?.error?.message ?? response.statusText);
  }
  return (response.status === 204 ? undefined : await response.json()) as T;
}

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface ActivityBreakdown {
  key: string | null;
  requests: number;
  blocks: number;
  errors: number;
  statuses: Record<string, number>;
  upstreamStatuses: Record<string, number>;
  latencyMs: Percentiles;
}

/** `GET /api/activity` (src/server/routes/activity.ts). */
export interface ActivityReport {
  from: string;
  to: string;
  generatedAt: string;
  bucketMs: number;
  sampled: boolean;
  read: number;
  totals: {
    requests: number;
    byOutcome: Record<string, number>;
    byStatus: Record<string, number>;
    byUpstreamStatus: Record<string, number>;
    latencyMs: Percentiles & { sample: number };
  };
  series: {
    at: string[];
    requests: number[];
    blocks: number[];
    errors: number[];
    byStatus: Record<string, number[]>;
    p50: (number | null)[];
    p90: (number | null)[];
    p99: (number | null)[];
  };
  byModel: ActivityBreakdown[];
  byUpstream: ActivityBreakdown[];
  risks: { risk: string; outcome: string | null; count: number }[];
  sanctions: { total: number; byAction: Record<string, number> };
  recentBlocks: { seq: number; at: string; actor: string; requestId: string | null; model: string | null; endpoint: string | null; risks: string[]; status: number | null }[];
}

export const api = {
  session: () => call<{ operator: OperatorInfo }>('GET', '/api/session'),
  signIn: (name: string, password: string) => call<{ operator: OperatorInfo }>('POST', '/api/session', { name, password }),
  signOut: () => call<void>('DELETE', '/api/session'),
  setPassword: (currentPassword: string, password: string) => call<void>('PUT', '/api/session/password', { currentPassword, password }),
  obligations: (on: string) => call<ObligationsResponse>('GET', `/api/obligations?on=${encodeURIComponent(on)}`),
  activity: (query: string) => call<ActivityReport>('GET', `/api/activity?${query}`),
};

export interface StoredBank {
  bankId: string;
  version: number;
  createdAt: string;
  items: number;
  note: string | null;
  ageDays: number;
  stale: boolean;
  reminder?: Bilingual;
}

export type ItemKind = 'generated-content' | 'should-refuse' | 'should-not-refuse';

export interface BankCoverage {
  version: StoredBank;
  invalid: number;
  coverage: {
    stats: { items: number; byKind: Record<ItemKind, number> };
    requirements: { id: string; clause: string; what: Bilingual; required: number; actual: number | null; shortfall: number; met: boolean }[];
    shortfalls: { id: string; clause: string; what: Bilingual; required: number; actual: number | null; shortfall: number }[];
    perRisk: { risk: string; name: Bilingual; counts: Record<ItemKind, number> }[];
    meets: boolean;
  };
}

export const evalApi = {
  banks: () => call<{ banks: StoredBank[] }>('GET', '/api/eval/banks'),
  coverage: (id: string) => call<BankCoverage>('GET', `/api/eval/banks/${encodeURIComponent(id)}/coverage`),
};
