/**
 * @module desk/sniff
 * Evidence files are accepted only when their bytes are what they claim: the declared type
 * must be an allowed one and the file's leading bytes must match it. Plain text must be
 * valid UTF-8 without control characters other than tab and line ends.
 */
import { DeskUploadError } from './errors.js';

export const EVIDENCE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain'] as const;
export type EvidenceType = (typeof EVIDENCE_TYPES)[number];

const EXTENSIONS: Record<EvidenceType, readonly string[]> = {
  'image/png': ['png'],
  'image/jpeg': ['jpg', 'jpeg'],
  'image/gif': ['gif'],
  'image/webp': ['webp'],
  'application/pdf': ['pdf'],
  'text/plain': ['txt', 'log'],
};

const startsWith = (bytes: Uint8Array, magic: readonly number[], at = 0): boolean => bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);

/** The evidence type the bytes actually are, or undefined. */
export function sniffType(bytes: Uint8Array): EvidenceType | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38]) && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61) return 'image/gif';
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (startsWith(bytes, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf';
  if (isPlainText(bytes)) return 'text/plain';
  return undefined;
}

function isPlainText(bytes: Uint8Array): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
}

/** The stored name: the base name, harmless characters only, with the type's extension. */
export function safeFilename(name: string, type: EvidenceType): string {
  const base = (name.split(/[\\/]/).pop() ?? '').normalize('NFKC').replace(/[^\p{L}\p{N}._ -]/gu, '_').replace(/^\.+/, '').slice(0, 100);
  const ext = base.includes('.') ? base.slice(base.lastIndexOf('.') + 1).toLowerCase() : '';
  const stem = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
  return `${stem || 'evidence'}.${EXTENSIONS[type].includes(ext) ? ext : EXTENSIONS[type][0]}`;
}

/** Checks a file against its declared type; returns the type. */
export function checkEvidence(bytes: Uint8Array, declared: string, maxBytes: number): EvidenceType {
  if (bytes.length > maxBytes) throw new DeskUploadError('E_DESK_UPLOAD_TOO_LARGE', `the file has ${bytes.length} bytes; the limit is ${maxBytes}`);
  if (bytes.length === 0) throw new DeskUploadError('E_DESK_UPLOAD_TYPE', 'the file is empty');
  const type = declared.split(';')[0]!.trim().toLowerCase();
  if (!(EVIDENCE_TYPES as readonly string[]).includes(type)) throw new DeskUploadError('E_DESK_UPLOAD_TYPE', `files of type "${type.slice(0, 60)}" are not accepted; send ${EVIDENCE_TYPES.join(', ')}`);
  const actual = sniffType(bytes);
  if (actual !== type) throw new DeskUploadError('E_DESK_UPLOAD_TYPE', `the file was declared ${type} but its content is ${actual ?? 'of no accepted type'}`);
  return actual;
}
