import { type DragEvent, useState } from 'react';
import type { Lang, Messages } from '../i18n.js';

interface LabelRecord {
  file: string;
  format: string | null;
  label: Record<string, string> | null;
  location: string | null;
  signature: string;
  error?: { code: string; message: string };
}

const FIELDS = ['Label', 'ContentProducer', 'ProduceID', 'ContentPropagator', 'PropagateID'] as const;

async function inspect(files: File[]): Promise<LabelRecord[]> {
  const form = new FormData();
  for (const file of files) form.append('file', file, file.name);
  const response = await fetch('/api/labels/inspect', { method: 'POST', body: form, credentials: 'same-origin' });
  const body = (await response.json()) as { files?: LabelRecord[]; error?: { message: string } };
  if (!response.ok || !body.files) throw new Error(body.error?.message ?? response.statusText);
  return body.files;
}

export function Labels({ t }: { t: Messages; lang: Lang }) {
  const [records, setRecords] = useState<LabelRecord[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [over, setOver] = useState(false);

  async function take(list: FileList | null) {
    if (!list || list.length === 0) return;
    setBusy(true);
    setError(null);
    try {
      setRecords(await inspect([...list]));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  function drop(event: DragEvent) {
    event.preventDefault();
    setOver(false);
    void take(event.dataTransfer.files);
  }

  return (
    <section>
      <h1>{t.labelsTitle}</h1>
      <label
        className={`dropzone${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={drop}
      >
        {busy ? t.loading : t.dropFiles}
        <input type="file" name="files" multiple onChange={(e) => void take(e.target.files)} hidden />
      </label>
      {error && <p className="error" role="alert">{error}</p>}
      {records.length > 0 && (
        <table className="labels">
          <thead>
            <tr>
              <th>{t.file}</th>
              <th>{t.format}</th>
              {FIELDS.map((f) => (
                <th key={f}>{f}</th>
              ))}
              <th>{t.location}</th>
              <th>{t.signature}</th>
            </tr>
          </thead>
          <tbody>
            {records.map((r, i) => (
              <tr key={`${r.file}-${i}`} data-file={r.file}>
                <td>{r.file}</td>
                <td>{r.format ?? '—'}</td>
                {r.error ? (
                  <td colSpan={FIELDS.length + 2} className="error">
                    {r.error.message}
                  </td>
                ) : r.label ? (
                  <>
                    {FIELDS.map((f) => (
                      <td key={f}>{r.label?.[f]}</td>
                    ))}
                    <td>{r.location}</td>
                    <td>
                      <span className={`sig sig-${r.signature}`}>{r.signature}</span>
                    </td>
                  </>
                ) : (
                  <td colSpan={FIELDS.length + 2} className="nolabel">
                    {t.noLabel}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
