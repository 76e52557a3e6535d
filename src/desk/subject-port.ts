// The port between the desk's case workflow (src/desk/cases*) and what hegui holds on a
// person (src/desk/subject*): a personal-information request is carried out through it.
// A data subject is known to hegui by the gateway user name and/or a contact address.

export interface SubjectRef {
  /** the gateway user (its `name`), when the requester proved control of that account */
  readonly gatewayUser?: string;
  /** e-mail or phone the requester proved control of */
  readonly contact?: string;
}

/** Everything hegui holds on one person, section by section, as plain JSON. */
export interface SubjectRecords {
  readonly subject: SubjectRef;
  /** ISO 8601 UTC */
  readonly collectedAt: string;
  /** e.g. { id: 'gateway-user', title: { zh, en }, rows: [...] }, one per table or source */
  readonly sections: ReadonlyArray<{
    readonly id: string;
    readonly title: { readonly zh: string; readonly en: string };
    readonly rows: ReadonlyArray<Readonly<Record<string, unknown>>>;
  }>;
}

export interface ErasureReport {
  readonly subject: SubjectRef;
  /** the desk case that asked for it, e.g. "PI-2026-000123" */
  readonly requestRef: string;
  readonly removed: ReadonlyArray<{ readonly what: string; readonly count: number }>;
  readonly pseudonymised: ReadonlyArray<{ readonly what: string; readonly count: number }>;
  /** kept under a legal hold, with the rule and until when (ISO date) */
  readonly kept: ReadonlyArray<{
    readonly what: string;
    readonly count: number;
    readonly rule: { readonly zh: string; readonly en: string };
    readonly until: string | null;
  }>;
}

export interface SubjectData {
  collect(subject: SubjectRef): Promise<SubjectRecords>;
  /** removes or pseudonymises what is not under a legal hold; audit content becomes tombstones */
  erase(subject: SubjectRef, request: { readonly requestRef: string; readonly actor: string }): Promise<ErasureReport>;
  /** withdraw consent / close account: the gateway user can no longer call the gateway */
  disable(subject: SubjectRef, request: { readonly requestRef: string; readonly actor: string; readonly reason: string }): Promise<void>;
}
