import { useEffect, useMemo, useState } from 'react';
import { type ProfileField, profileFields, relevant } from '../../../src/rules/profile-fields.js';
import { type Answer, answerHint, answersToProfile, parseAnswer, profileYaml } from '../../../src/rules/profile-interview.js';
import type { Lang, Messages } from '../i18n.js';

/** The interview's answer errors (English from `parseAnswer`) in the page's language. */
function answerError(message: string, lang: Lang): string {
  if (lang === 'en') return message;
  const m = message.replace(/^[\w.]+: /, '');
  let match: RegExpMatchArray | null;
  if (m === 'an answer is required') return '必填。';
  if ((match = m.match(/^"(.*)" is not a date as YYYY-MM-DD$/))) return `“${match[1]}”不是 YYYY-MM-DD 格式的日期。`;
  if ((match = m.match(/^answer a whole number, not "(.*)"$/))) return `请填写整数，而不是“${match[1]}”。`;
  if ((match = m.match(/^name at least (\d+) of (.*)$/))) return `至少填写 ${match[1]} 项：${match[2]!.split(', ').join('、')}。`;
  if ((match = m.match(/^(.*) not in (.*)$/))) return `${match[1]!.split(', ').join('、')} 不在可选范围内（${match[2]!.split(', ').join('、')}）。`;
  if ((match = m.match(/^answer one of (.*) \(or its number\), not "(.*)"$/))) return `请选择 ${match[1]!.split(', ').join('、')} 之一，而不是“${match[2]}”。`;
  return `答案格式不正确（${m}）。`;
}

/**
 * The profile interview as a form: the same questions, order and legal basis as
 * `hegui profile init`, answered in the browser; the YAML is shown and can be downloaded.
 * Nothing is sent to the server.
 */
export function Profile({ t, lang }: { t: Messages; lang: Lang }) {
  const [raw, setRaw] = useState<Record<string, string>>({});

  const { answers, errors } = useMemo(() => {
    const answers = new Map<ProfileField, Answer>();
    const errors = new Map<string, string>();
    for (const field of profileFields) {
      if (!relevant(field, answersToProfile(answers))) continue;
      try {
        answers.set(field, parseAnswer(field, raw[field.path] ?? ''));
      } catch (error) {
        errors.set(field.path, (error as Error).message);
        answers.set(field, field.kind.type === 'text' || field.kind.type === 'date' ? { skip: true } : { unknown: true });
      }
    }
    return { answers, errors };
  }, [raw]);

  const yaml = profileYaml(answers, lang);
  const [download, setDownload] = useState('');
  useEffect(() => {
    const url = URL.createObjectURL(new Blob([yaml], { type: 'application/yaml' }));
    setDownload(url);
    return () => URL.revokeObjectURL(url);
  }, [yaml]);
  const set = (path: string, value: string) => setRaw((r) => ({ ...r, [path]: value }));

  return (
    <section className="profile-form">
      <h1>{t.profileForm}</h1>
      <p>{t.profileFormHelp}</p>
      <ol>
        {[...answers.keys()].map((field) => (
          <li key={field.path} data-field={field.path}>
            <label>
              <strong>{field.question[lang]}</strong>
              <br />
              <small>{field.basis[lang]}</small>
              <br />
              {field.kind.type === 'boolean' ? (
                <select name={field.path} value={raw[field.path] ?? ''} onChange={(e) => set(field.path, e.target.value)}>
                  <option value="">{t.unknown}</option>
                  <option value="yes">{t.yes}</option>
                  <option value="no">{t.no}</option>
                </select>
              ) : field.kind.type === 'enum' ? (
                <select name={field.path} value={raw[field.path] ?? ''} onChange={(e) => set(field.path, e.target.value)}>
                  <option value="">{t.unknown}</option>
                  {field.kind.values.map((v) => (
                    <option key={v}>{v}</option>
                  ))}
                </select>
              ) : (
                <input name={field.path} value={raw[field.path] ?? ''} placeholder={answerHint(field, lang)} onChange={(e) => set(field.path, e.target.value)} />
              )}
            </label>
            {errors.has(field.path) && raw[field.path] !== undefined && (
              <p className="error" id={`error-${field.path}`}>
                {answerError(errors.get(field.path)!, lang)}
              </p>
            )}
          </li>
        ))}
      </ol>
      <h2>profile.yaml</h2>
      <a href={download} download="profile.yaml">
        {t.download}
      </a>
      <pre data-testid="profile-yaml">{yaml}</pre>
    </section>
  );
}
