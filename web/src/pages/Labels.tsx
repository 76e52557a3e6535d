import { type DragEvent, useRef, useState } from 'react';
import { ApiError, NetworkError } from '../api.js';
import { errorText, type Lang, type Messages } from '../i18n.js';

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
  let response: Response;
  try {
    response = await fetch('/api/labels/inspect', { method: 'POST', body: form, credentials: 'same-origin' });
  } catch (error) {
    throw new NetworkError((error as Error).message);
  }
  const body = (await response.json().catch(() => ({}))) as { files?: LabelRecord[]; error?: { code?: string; message?: string } };
  if (!response.ok || !body.files) throw new ApiError(response.status, body.error?.code ?? `E_HTTP_${response.status}`, body.error?.message ?? response.statusText);
  return body.files;
}

/**
 * Label inspection: files dropped on the zone, or chosen through it (it is a button, so the
 * keyboard opens the file chooser with Enter or Space), are checked for implicit labels.
 */
export function Labels({ t }: { t: Messages; lang: Lang }) {
  const [records, setRecords] = useState<LabelRecord[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  async function take(list: FileList | null) {
    if (!list || list.length === 0) return;
    setBusy(true);
    setError(null);
    try {
      setRecords(await inspect([...list]));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      if (input.current) input.current.value = '';
    }
  }

  function drop(event: DragEvent) {
    event.preventDefault();
    setOver(false);
    void take(event.dataTransfer.files);
  }

  return (
    <section aria-busy={busy}>
      <h1>{t.labelsTitle}</h1>
      <button
        type="button"
        className={`dropzone${over ? ' over' : ''}`}
        aria-describedby="dropzone-hint"
        disabled={busy}
        onClick={() => input.current?.click()}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={drop}
      >
        {busy ? t.loading : t.dropFiles}
      </button>
      <p id="dropzone-hint" className="hint">
        {t.dropKeyboard}
      </p>
      <input ref={input} type="file" name="files" multiple onChange={(e) => void take(e.target.files)} hidden aria-label={t.chooseFiles} />
      {busy && (
        <p role="status" className="loading">
          {t.loading}
        </p>
      )}
      {Boolean(error) && (
        <p className="error" role="alert">
          {errorText(t, error)}
        </p>
      )}
      {records.length > 0 && (
        <div className="table-scroll" role="region" aria-label={t.labelResults} tabIndex={0}>
          <table className="labels stack">
            <thead>
              <tr>
                <th scope="col">{t.file}</th>
                <th scope="col">{t.format}</th>
                {FIELDS.map((f) => (
                  <th scope="col" key={f} title={f}>
                    {t.labelFields[f]}
                  </th>
                ))}
                <th scope="col">{t.location}</th>
                <th scope="col">{t.signature}</th>
              </tr>
            </thead>
            <tbody>
              {records.map((r, i) => (
                <tr key={`${r.file}-${i}`} data-file={r.file}>
                  <td data-label={t.file} className="break">
                    {r.file}
                  </td>
                  <td data-label={t.format}>{r.format ?? '—'}</td>
                  {r.error ? (
                    <td colSpan={FIELDS.length + 2} className="error" data-code={r.error.code}>
                      {errorText(t, r.error)}
                    </td>
                  ) : r.label ? (
                    <>
                      {FIELDS.map((f) => (
                        <td key={f} data-label={t.labelFields[f]} className="break">
                          {f === 'Label' ? (t.labelValues[r.label?.[f] ?? ''] ?? r.label?.[f]) : r.label?.[f]}
                        </td>
                      ))}
                      <td data-label={t.location}>{r.location}</td>
                      <td data-label={t.signature}>
                        <span className={`sig sig-${r.signature}`} data-signature={r.signature}>
                          {t.signatures[r.signature] ?? r.signature}
                        </span>
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
        </div>
      )}
    </section>
  );
}
