/**
 * @module corpus/scan-defaults
 * The sampling scan's defaults, apart from the scan itself (scan.ts, which loads the safety
 * engine), so that `hegui corpus --help` can show them without loading it.
 */

/** GB/T 45654: at least this many items sampled per source. */
export const DEFAULT_SAMPLE_SIZE = 4000;
/** Flagged items a full-pass shard keeps for review (all are counted). */
export const DEFAULT_KEEP_FLAGGED = 1000;
