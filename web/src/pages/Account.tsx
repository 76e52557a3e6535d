import { type FormEvent, useState } from 'react';
import { api } from '../api.js';
import { errorText, type Messages } from '../i18n.js';

export function Account({ t, hasPassword, onSaved, who }: { t: Messages; hasPassword: boolean; onSaved: () => void; who?: string }) {
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [state, setState] = useState<'idle' | 'saved' | { error: unknown }>('idle');

  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      await api.setPassword(current, password);
      setState('saved');
      setCurrent('');
      setPassword('');
      onSaved();
    } catch (e) {
      setState({ error: e });
    }
  }

  return (
    <form className="card" onSubmit={(e) => void submit(e)}>
      <h1>{t.setPassword}</h1>
      {who && (
        <p data-testid="signed-in-as">
          {t.signedInAs}
          {t.colon}
          {who}
        </p>
      )}
      {hasPassword && (
        <label>
          {t.currentPassword}
          <input name="current-password" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
        </label>
      )}
      <label>
        {t.newPassword}
        <input name="new-password" type="password" autoComplete="new-password" minLength={10} value={password} onChange={(e) => setPassword(e.target.value)} required />
      </label>
      <button type="submit">{t.save}</button>
      {state === 'saved' && <p role="status">{t.saved}</p>}
      {typeof state === 'object' && (
        <p className="error" role="alert">
          {(state.error as { code?: string }).code === 'E_AUTH_FAILED' ? t.wrongCurrentPassword : errorText(t, state.error)}
        </p>
      )}
    </form>
  );
}
