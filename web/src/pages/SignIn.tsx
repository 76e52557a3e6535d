import { type FormEvent, useState } from 'react';
import { api, type OperatorInfo } from '../api.js';
import type { Messages } from '../i18n.js';

export function SignIn({ t, onSignedIn }: { t: Messages; onSignedIn: (o: OperatorInfo) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [failed, setFailed] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      onSignedIn((await api.signIn(name, password)).operator);
    } catch {
      setFailed(true);
    }
  }

  return (
    <form className="card signin" onSubmit={(e) => void submit(e)}>
      <h1>{t.signIn}</h1>
      <label>
        {t.name}
        <input name="name" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        {t.password}
        <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
      </label>
      {failed && <p className="error" role="alert">{t.signInFailed}</p>}
      <button type="submit">{t.signIn}</button>
      <p className="hint">{t.signInHint}</p>
    </form>
  );
}
