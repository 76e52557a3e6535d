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
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) {
    const error = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new ApiError(response.status, error?.error?.message ?? response.statusText);
  }
  return (response.status === 204 ? undefined : await response.json()) as T;
}

export const api = {
  session: () => call<{ operator: OperatorInfo }>('GET', '/api/session'),
  signIn: (name: string, password: string) => call<{ operator: OperatorInfo }>('POST', '/api/session', { name, password }),
  signOut: () => call<void>('DELETE', '/api/session'),
  setPassword: (currentPassword: string, password: string) => call<void>('PUT', '/api/session/password', { currentPassword, password }),
  obligations: (on: string) => call<ObligationsResponse>('GET', `/api/obligations?on=${encodeURIComponent(on)}`),
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
