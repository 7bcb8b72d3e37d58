import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import type { Session } from '../types';
import { PageHeading } from '../ui';

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [waitUntil, setWaitUntil] = useState(0);
  const [now, setNow] = useState(Date.now());

  // The wait after too many wrong tokens, counting down.
  useEffect(() => {
    if (waitUntil <= Date.now()) return undefined;
    const timer = setInterval(() => {
      setNow(Date.now());
      if (Date.now() >= waitUntil) {
        clearInterval(timer);
        setError(undefined);
      }
    }, 1000);
    return () => clearInterval(timer);
  }, [waitUntil]);

  const waiting = Math.max(0, Math.ceil((waitUntil - now) / 1000));

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (busy || waiting > 0 || token === '') return;
    setBusy(true);
    setError(undefined);
    try {
      const session = await api.signIn(token);
      setToken('');
      onSignedIn(session);
    } catch (e: unknown) {
      if (e instanceof ApiError && e.status === 401) setError('Wrong token');
      else if (e instanceof ApiError && e.status === 429) {
        const seconds = e.retryAfterSeconds ?? 60;
        setNow(Date.now());
        setWaitUntil(Date.now() + seconds * 1000);
        setError(`Too many wrong tokens. Try again in ${seconds} s.`);
      } else if (e instanceof ApiError) setError(e.message);
      else setError('The bridge could not be reached.');
    } finally {
      setBusy(false);
    }
  };

  const message = waiting > 0 ? `Too many wrong tokens. Try again in ${waiting} s.` : error;

  return (
    <section class="signin">
      <PageHeading title="Sign in" />
      <form onSubmit={submit} class="card" noValidate>
        <label for="signin-token">Admin token</label>
        <input
          id="signin-token"
          name="token"
          type="password"
          autoComplete="current-password"
          required
          data-testid="signin-token"
          value={token}
          aria-invalid={error === 'Wrong token' ? true : undefined}
          aria-describedby={message ? 'signin-error' : undefined}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
        <p id="signin-error" class="form-error" role="alert" data-testid="signin-error" hidden={!message}>
          {message}
        </p>
        <button type="submit" class="primary" data-testid="signin-submit" disabled={busy || waiting > 0}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}
