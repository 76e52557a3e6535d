/**
 * The desk's calls: the public intake and status link (token in the `x-desk-token` header),
 * and the reviewer's API (session cookie).
 */
import { ApiError } from './api.js';

export interface DeskForm {
  kinds: string[];
  complaintCategories: string[];
  piRights: string[];
  limits: Record<string, number>;
  providerName: string;
  powBits: number;
  uploadMaxBytes: number;
  uploadMaxFiles: number;
  evidenceTypes: string[];
}

export interface RequesterView {
  reference: string;
  kind: string;
  category: string;
  state: string;
  stateName: { zh: string; en: string };
  receivedAt: string;
  dueDate: string;
  dueEstimated: boolean;
  paused: boolean;
  contactVerified: boolean;
  subject: string | null;
  text: string;
  resolution: string | null;
  closedAt: string | null;
  erased: boolean;
  history: { at: string; action: string; toState: string | null; text: string | null }[];
  messages: { at: string; direction: string; text: string }[];
  files: { id: string; kind: string; filename: string; contentType: string; size: number }[];
}

export interface CaseSummary {
  reference: string;
  kind: string;
  category: string;
  state: string;
  receivedAt: string;
  dueDate: string;
  dueEstimated: boolean;
  paused: boolean;
  escalation: number;
  assigneeId: string | null;
  contactVerified: boolean;
  account: string | null;
}

export interface CaseDetail extends CaseSummary {
  subject: string | null;
  text: string;
  language: 'zh' | 'en';
  limitDays: number;
  resolution: string | null;
  closedAt: string | null;
  erasedAt: string | null;
  allowed: string[];
  history: { at: string; actor: string; action: string; from: string | null; to: string | null; reason: string | null; public: boolean }[];
  notes: { at: string; authorId: string; text: string }[];
  messages: { at: string; direction: string; author: string; text: string }[];
  files: { id: string; kind: string; filename: string; contentType: string; size: number }[];
}

async function send<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) {
    const error = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new ApiError(response.status, error?.error?.code ?? `E_HTTP_${response.status}`, error?.error?.message ?? response.statusText);
  }
  return (response.status === 204 ? undefined : await response.json()) as T;
}

const tokenHeader = (token: string) => ({ 'x-desk-token': token });

/** Finds a nonce whose SHA-256 with the challenge starts with `bits` zero bits. */
async function solve(challenge: string, bits: number): Promise<string> {
  const encoder = new TextEncoder();
  for (let n = 0; ; n += 1) {
    const nonce = n.toString(36);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(`${challenge}:${nonce}`)));
    let zeros = 0;
    for (const byte of digest) {
      if (byte === 0) {
        zeros += 8;
        continue;
      }
      zeros += Math.clz32(byte) - 24;
      break;
    }
    if (zeros >= bits) return nonce;
  }
}

export const deskApi = {
  form: () => send<DeskForm>('GET', '/api/desk/public/form'),
  async file(input: Record<string, unknown>, powBits: number) {
    let pow: { challenge: string; nonce: string } | undefined;
    if (powBits > 0) {
      const { challenge, bits } = await send<{ challenge: string; bits: number }>('GET', '/api/desk/public/challenge');
      pow = { challenge, nonce: await solve(challenge, bits) };
    }
    return send<{ reference: string; token: string; dueDate: string; statusUrl: string }>('POST', '/api/desk/public/cases', { ...input, ...(pow ? { pow } : {}) });
  },
  async upload(token: string, file: File) {
    const response = await fetch('/api/desk/public/status/evidence', { method: 'POST', body: file, headers: { ...tokenHeader(token), 'content-type': file.type || 'application/octet-stream', 'x-filename': encodeURIComponent(file.name) } });
    if (!response.ok) {
      const error = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
      throw new ApiError(response.status, error?.error?.code ?? `E_HTTP_${response.status}`, `${file.name}: ${error?.error?.message ?? response.statusText}`);
    }
  },
  status: (token: string) => send<RequesterView>('GET', '/api/desk/public/status', undefined, tokenHeader(token)),
  verify: (token: string, code: string) => send<void>('POST', '/api/desk/public/status/verify', { code }, tokenHeader(token)),
  resend: (token: string) => send<void>('POST', '/api/desk/public/status/resend', undefined, tokenHeader(token)),
  message: (token: string, text: string) => send<void>('POST', '/api/desk/public/status/messages', { text }, tokenHeader(token)),
  withdraw: (token: string) => send<void>('POST', '/api/desk/public/status/withdraw', undefined, tokenHeader(token)),
  async download(token: string, id: string, filename: string) {
    const response = await fetch(`/api/desk/public/status/files/${encodeURIComponent(id)}`, { headers: tokenHeader(token) });
    if (!response.ok) throw new ApiError(response.status, `E_HTTP_${response.status}`, response.statusText);
    const url = URL.createObjectURL(await response.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  },

  queue: (params: URLSearchParams) => send<{ cases: CaseSummary[]; total: number; totalCapped: boolean; nextCursor: string | null }>('GET', `/api/desk/cases?${params}`),
  detail: (ref: string) => send<CaseDetail>('GET', `/api/desk/cases/${encodeURIComponent(ref)}`),
  operators: () => send<{ operators: { id: string; name: string; role: string }[] }>('GET', '/api/desk/operators'),
  templates: (ref: string) => send<{ templates: { id: string; title: { zh: string; en: string }; text: { zh: string; en: string } }[] }>('GET', `/api/desk/cases/${encodeURIComponent(ref)}/templates`),
  transition: (ref: string, body: { to: string; reason?: string; resolution?: string }) => send<CaseDetail>('POST', `/api/desk/cases/${encodeURIComponent(ref)}/transition`, body),
  assign: (ref: string, operatorId: string | null) => send<CaseDetail>('POST', `/api/desk/cases/${encodeURIComponent(ref)}/assign`, { operatorId }),
  note: (ref: string, text: string) => send<CaseDetail>('POST', `/api/desk/cases/${encodeURIComponent(ref)}/notes`, { text }),
  reply: (ref: string, text: string) => send<CaseDetail>('POST', `/api/desk/cases/${encodeURIComponent(ref)}/replies`, { text }),
  carryOut: (ref: string) => send<{ summary: { zh: string; en: string }; case: CaseDetail }>('POST', `/api/desk/cases/${encodeURIComponent(ref)}/carry-out`, {}),
};
