/**
 * @module store/tables/eval-banks
 * Question banks of the security assessment (GB/T 45654), kept by version: every save of a
 * bank adds a version (1, 2, ...) with its creation time and its items; old versions stay, so a
 * run can name the exact questions it asked and the report can say how old the bank is.
 */
export interface EvalBankVersionsTable {
  bank_id: string;
  version: number;
  /** ISO 8601 UTC */
  created_at: string;
  items: number;
  /** free text: where the version came from (files imported, who saved it) */
  note: string | null;
}

export interface EvalBankItemsTable {
  bank_id: string;
  version: number;
  /** position in the bank, from 0 */
  seq: number;
  item_id: string;
  prompt: string;
  /** GB/T 45654 risk code; NULL for should-not-refuse items that test no risk */
  risk: string | null;
  kind: string;
  language: string;
  source: string;
  /** the A.2 group ({dimension, value, templateId}) as JSON, or NULL */
  grp: string | null;
}

export interface EvalBankTables {
  eval_bank_versions: EvalBankVersionsTable;
  eval_bank_items: EvalBankItemsTable;
}
