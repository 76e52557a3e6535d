/**
 * @module store/store
 * The store: typed repositories over one Kysely instance. Nothing outside `store/` builds SQL;
 * a capability asks for its repository here. `transaction` runs a function against a store
 * whose repositories all share one database transaction, so a write is never half applied.
 */
import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { DialectName } from './dialect.js';
import { AuditRepository } from './repositories/audit.js';
import { DeskRepository } from './repositories/desk.js';
import { DeskIncidentRepository } from './repositories/desk-incidents.js';
import { EvalRunRepository } from './repositories/eval-runs.js';
import { EvalBankRepository } from './repositories/eval-banks.js';
import { DutyStatusRepository } from './repositories/duty-statuses.js';
import { CorpusRepository } from './repositories/corpus.js';
import { CorpusAnnotationRepository } from './repositories/corpus-annotation.js';
import { GatewayMediaRepository } from './repositories/gateway-media.js';
import { GatewaySanctionRepository } from './repositories/gateway-sanctions.js';
import { GatewayUsageRepository } from './repositories/gateway-usage.js';
import { GatewayUserRepository } from './repositories/gateway-users.js';
import { KeywordLibraryRepository } from './repositories/keyword-libraries.js';
import { OperatorRepository } from './repositories/operators.js';
import { SettingsRepository } from './repositories/settings.js';
import type { Database } from './schema.js';

export class Store {
  readonly #db: Kysely<Database>;
  readonly dialect: DialectName;
  /** Where the data lives, password hidden: `sqlite:/path/hegui.db` or `postgres://user:***@host/db`. */
  readonly location: string;
  readonly operators: OperatorRepository;
  readonly settings: SettingsRepository;
  readonly gatewayUsers: GatewayUserRepository;
  readonly gatewayMedia: GatewayMediaRepository;
  readonly gatewayUsage: GatewayUsageRepository;
  readonly gatewaySanctions: GatewaySanctionRepository;
  readonly audit: AuditRepository;
  readonly keywordLibraries: KeywordLibraryRepository;
  readonly desk: DeskRepository;
  readonly deskIncidents: DeskIncidentRepository;
  readonly evalRuns: EvalRunRepository;
  readonly evalBanks: EvalBankRepository;
  readonly dutyStatuses: DutyStatusRepository;
  readonly corpus: CorpusRepository;
  readonly corpusAnnotation: CorpusAnnotationRepository;

  readonly #onClose: (() => Promise<void>) | undefined;

  /**
   * `sqlite`: the embedded connection under `db`, for the few hot paths that skip the query
   * builder; `onClose`: what else to stop when the store closes (the checkpoint worker).
   */
  constructor(db: Kysely<Database>, dialect: DialectName, location: string, extras: { sqlite?: SQLite.Database; onClose?: () => Promise<void> } = {}) {
    const { sqlite } = extras;
    this.#db = db;
    this.#onClose = extras.onClose;
    this.dialect = dialect;
    this.location = location;
    this.operators = new OperatorRepository(db);
    this.settings = new SettingsRepository(db);
    this.gatewayUsers = new GatewayUserRepository(db);
    this.gatewayMedia = new GatewayMediaRepository(db);
    this.gatewayUsage = new GatewayUsageRepository(db);
    this.gatewaySanctions = new GatewaySanctionRepository(db);
    this.audit = new AuditRepository(db, sqlite);
    this.keywordLibraries = new KeywordLibraryRepository(db);
    this.desk = new DeskRepository(db);
    this.deskIncidents = new DeskIncidentRepository(db);
    this.evalRuns = new EvalRunRepository(db, sqlite);
    this.evalBanks = new EvalBankRepository(db);
    this.dutyStatuses = new DutyStatusRepository(db);
    this.corpus = new CorpusRepository(db, dialect);
    this.corpusAnnotation = new CorpusAnnotationRepository(db);
  }

  /** Runs `work` in one transaction: every repository of the store it receives writes inside it. */
  async transaction<T>(work: (store: Store) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute((trx) => work(new Store(trx, this.dialect, this.location)));
  }

  /** Resolves when the database answers a trivial query; for health checks. */
  async ping(): Promise<void> {
    await this.#db.selectNoFrom((eb) => eb.val(1).as('ok')).execute();
  }

  async close(): Promise<void> {
    await this.#onClose?.();
    await this.#db.destroy();
  }
}
