/**
 * @module calendar/errors
 */
import { HeguiError } from '../errors.js';

/**
 * The State Council has not published the holiday schedule of a year (or hegui does not have
 * it yet). Counting such a year as plain weekdays would move legal deadlines silently.
 */
export class ScheduleUnpublishedError extends HeguiError {
  readonly year: number;
  constructor(year: number, published: readonly number[]) {
    const range = published.length > 0 ? `${published[0]}-${published[published.length - 1]}` : 'none';
    super(
      'E_CALENDAR_UNPUBLISHED',
      `the ${year} holiday schedule is not published or not known to hegui (known years: ${range}); ` +
        'pass --estimate (allowEstimate: true) to count weekends only and mark the result as an estimate, ' +
        'or load the published schedule with --schedule FILE',
    );
    this.year = year;
  }
}
