/**
 * @module bench/label/lib/picture
 * The test picture of the JPEG label benchmarks (explicit, visible, splice): a smooth colour
 * field with seeded noise, so JPEG coding does work comparable to a photograph. In a folder of
 * its own because bench/label/index.ts runs every .ts file beside it as a case.
 */

/** `side` x `side` RGB pixels, the same for every call with the same side. */
export function basePicture(side: number): Buffer {
  let state = 12345;
  const data = Buffer.alloc(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      for (let c = 0; c < 3; c++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        const value = 128 + 90 * Math.sin((x * (c + 1)) / 97 + y / 131) * Math.cos(y / (71 + c * 13)) + (state / 2 ** 32 - 0.5) * 40;
        data[(y * side + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  }
  return data;
}
