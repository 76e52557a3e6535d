/** The digest of the build inputs under `root` (scripts/build-stamp.mjs). */
export function inputsDigest(root: string): string;
/** Where a build keeps its stamp. */
export function stampPath(root: string): string;
/** Whether dist/ under `root` was built from the inputs as they are now. */
export function buildIsCurrent(root: string): boolean;
