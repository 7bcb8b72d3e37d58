import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, onUnauthorized, setSession } from './api';
import { Call } from './pages/Call';
import { History } from './pages/History';
import { Live } from './pages/Live';
import { NotFound } from './pages/NotFound';
import { SignIn } from './pages/SignIn';
import { Stats } from './pages/Stats';
import { BASE, currentTarget, match, navigate, safeNext, startRouter, useLocation, type Route } from './router';
import type { Session } from './types';
import './styles.css';

function goToSignIn(): void {
  if (match(location.pathname).name === 'signin') return;
  navigate(`${BASE}/signin?next=${encodeURIComponent(currentTarget())}`, { replace: true });
}

function App() {
  const where = useLocation();
  const route = match(where.pathname);
  // undefined: not known yet; null: signed out (or the bridge could not say).
  const [session, setState] = useState<Session | null | undefined>(undefined);
  const [signOutError, setSignOutError] = useState<string | undefined>();

  const remember = (next: Session | null): void => {
    setSession(next);
    setState(next);
  };

  useEffect(() => {
    onUnauthorized(() => {
      remember(null);
      goToSignIn();
    });
    api.session().then(
      (s) => {
        remember(s);
        if (match(location.pathname).name === 'signin') navigate(safeNext(new URLSearchParams(location.search).get('next')), { replace: true });
      },
      (e: unknown) => {
        remember(null);
        if (e instanceof ApiError && e.status === 401) goToSignIn();
      },
    );
  }, []);

  const signOut = async (): Promise<void> => {
    setSignOutError(undefined);
    try {
      await api.signOut();
    } catch (e: unknown) {
      if (!(e instanceof ApiError && e.status === 401)) {
        setSignOutError(e instanceof ApiError ? e.message : 'The bridge could not be reached.');
        return;
      }
    }
    remember(null);
    navigate(`${BASE}/signin`, { replace: true });
  };

  const signedIn = (next: Session): void => {
    remember(next);
    navigate(safeNext(new URLSearchParams(location.search).get('next')), { replace: true });
  };

  const onSignIn = route.name === 'signin';
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={`${BASE}/`}>
          Console
        </a>
        {!onSignIn && (
          <>
            <nav aria-label="Main">
              <ul>
                <NavLink href={`${BASE}/`} current={route.name === 'live' || route.name === 'call'} label="Live" />
                <NavLink href={`${BASE}/history`} current={route.name === 'history'} label="History" />
                <NavLink href={`${BASE}/stats`} current={route.name === 'stats'} label="Stats" />
              </ul>
            </nav>
            <button type="button" class="signout" onClick={signOut}>
              Sign out
            </button>
          </>
        )}
      </header>
      {signOutError && (
        <p class="error banner" role="alert">
          Could not sign out: {signOutError}
        </p>
      )}
      <main id="main">{session === undefined && !onSignIn ? <p class="muted">Loading…</p> : <Page route={route} onSignedIn={signedIn} />}</main>
    </>
  );
}

function NavLink({ href, current, label }: { href: string; current: boolean; label: string }) {
  return (
    <li>
      <a href={href} aria-current={current ? 'page' : undefined}>
        {label}
      </a>
    </li>
  );
}

function Page({ route, onSignedIn }: { route: Route; onSignedIn: (session: Session) => void }) {
  switch (route.name) {
    case 'live':
      return <Live />;
    case 'call':
      return <Call key={route.callId} callId={route.callId} />;
    case 'history':
      return <History />;
    case 'stats':
      return <Stats />;
    case 'signin':
      return <SignIn onSignedIn={onSignedIn} />;
    case 'notFound':
      return <NotFound />;
  }
}

startRouter();
render(<App />, document.getElementById('app')!);
