import { useState } from "preact/hooks";
import { ApiError, post } from "../api";
import { TextField } from "../components";
import { ep } from "../endpoints";
import type { Me } from "../session";

export function SignIn(props: { onSignedIn: (me: Me) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [totp, setTotp] = useState("");
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    try {
      props.onSignedIn(await post<Me>(ep.login, { email, password, totp }));
    } catch (err) {
      const ae = err as ApiError;
      if (ae.message && ae.fields.totp) setNeedTotp(true);
      setError(ae);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="signin">
      <form onSubmit={submit} aria-labelledby="signin-title" noValidate>
        <h1 id="signin-title">Sign in to vpbx</h1>
        <TextField label="E-mail" name="email" type="email" autoComplete="username" value={email}
          onInput={setEmail} required error={error?.fields.email} />
        <TextField label="Password" name="password" type="password" autoComplete="current-password"
          value={password} onInput={setPassword} required error={error?.fields.password} />
        {needTotp && (
          <TextField label="Code from your authenticator app" name="totp" autoComplete="one-time-code"
            value={totp} onInput={setTotp} error={error?.fields.totp} />
        )}
        {error && !Object.keys(error.fields).length && <p class="notice error" role="alert">{error.message}</p>}
        <button type="submit" disabled={busy}>{busy ? "Signing in…" : "Sign in"}</button>
      </form>
    </main>
  );
}
