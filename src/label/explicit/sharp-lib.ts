/**
 * @module label/explicit/sharp-lib
 * sharp (libvips), loaded when an image first needs it rather than with the modules that may
 * use it: a batch of plain JPEGs labelled by the DCT-block splice reads their geometry from the
 * headers (`image-codec.ts`) and never needs libvips, so an image pool thread does not spend
 * about a tenth of a second of CPU loading it (issue 14).
 */
import type sharp from 'sharp';

let loading: Promise<typeof sharp> | undefined;
let perImage = false;

function configure(lib: typeof sharp): typeof sharp {
  if (perImage) {
    lib.concurrency(1);
    lib.cache(false);
  }
  return lib;
}

/** sharp, loaded at the first call. */
export function libvips(): Promise<typeof sharp> {
  return (loading ??= import('sharp').then((module) => configure(module.default)));
}

/**
 * From now on (or as soon as it loads), libvips works each image on one thread and keeps no
 * operation cache, in the whole process: for threads that each label whole images, where
 * libvips threads would only add hand-offs and the cache never hits when every image is new.
 */
export function oneLibvipsThreadPerImage(): void {
  perImage = true;
  if (loading) void loading.then(configure);
}
