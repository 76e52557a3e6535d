/**
 * @module server/tar
 * A plain POSIX ustar archive of a few small files: how the dashboard hands over a folder (the
 * audit export package) as one download that every system opens (`tar -xf`).
 */

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number, text: string): void {
  header.write(text, offset, Math.min(length, Buffer.byteLength(text)), 'utf8');
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

/** A ustar archive of `files` (names up to 100 bytes) under folder `root`, dated `mtime`. */
export function tarArchive(root: string, files: readonly { name: string; data: Buffer }[], mtime: Date): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    const name = `${root}/${file.name}`;
    if (Buffer.byteLength(name) > 100) throw new RangeError(`tar entry name too long: ${name}`);
    const header = Buffer.alloc(BLOCK);
    field(header, 0, 100, name);
    field(header, 100, 8, octal(0o644, 8));
    field(header, 108, 8, octal(0, 8));
    field(header, 116, 8, octal(0, 8));
    field(header, 124, 12, octal(file.data.length, 12));
    field(header, 136, 12, octal(Math.floor(mtime.getTime() / 1000), 12));
    field(header, 148, 8, '        ');
    field(header, 156, 1, '0');
    field(header, 257, 6, 'ustar\0');
    field(header, 263, 2, '00');
    let sum = 0;
    for (const byte of header) sum += byte;
    field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    parts.push(header, file.data, Buffer.alloc((BLOCK - (file.data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
