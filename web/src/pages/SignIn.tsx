import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api, type OperatorInfo } from '../api.js';
import { errorText, type Messages } from '../i18n.js';

/** Sign-in; `notice` says why it is shown (an ended session), and the page stays where it was. */
export function SignIn({ t, notice, onSignedIn }: { t: Messages; notice: string | null; onSignedIn: (o: OperatorInfo) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    try {
      onSignedIn((await api.signIn(name, password)).operator);
    } catch (e) {
      setFailure(e);
      setBusy(false);
    }
  }

  return (
    <form className="card signin" onSubmit={(e) => void submit(e)} aria-busy={busy}>
      <h1>{t.signIn}</h1>
      {notice && (
        <p className="warning" role="status" data-notice="expired">
          {notice}
        </p>
      )}
      <label>
        {t.name}
        <input ref={first} name="name" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        {t.password}
        <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
      </label>
      {failure !== null && (
        <p className="error" role="alert">
          {errorText(t, failure)}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {t.signIn}
      </button>
      <p className="hint">
        {t.signInHint} <code className="nowrap">hegui operators add NAME --role admin</code>
        {t.signInHintEnd}
      </p>
    </form>
  );
}
