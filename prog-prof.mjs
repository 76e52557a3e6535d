import { readdirSync, readFileSync } from 'node:fs';
import { labelImage } from './dist/label/explicit/image.js';
import { parseProgressiveJpeg } from './dist/label/explicit/jpeg-progressive.js';
const dir = '.bench-data/label-visible/in-progressive';
const files = readdirSync(dir).sort().slice(0, 40).map((n) => readFileSync(`${dir}/${n}`));
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  for (const f of files) parseProgressiveJpeg(f);
  const dec = (performance.now() - t) / files.length;
  t = performance.now();
  for (const f of files) await labelImage(f, {});
  console.log(round, 'decode', dec.toFixed(2), 'label', ((performance.now() - t) / files.length).toFixed(2));
}
