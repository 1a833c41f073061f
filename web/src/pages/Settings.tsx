import { useState } from "preact/hooks";
import { ApiError, del, patch, post, tenantPath } from "../api";
import { SchemaForm } from "../schemaform";
import { Page, Status, Table, TextField, useGet } from "../components";
import { ep } from "../endpoints";
import { can, type Me } from "../session";

function Password() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [ok, setOk] = useState(false);
  async function save(e: Event) {
    e.preventDefault();
    try {
      await post(ep.password, { current, new: next });
      setErrors({}); setOk(true); setCurrent(""); setNext("");
    } catch (err) {
      const ae = err as ApiError;
      setOk(false);
      setErrors(Object.keys(ae.fields).length ? { ...ae.fields, new: ae.fields.password ?? ae.fields.new } : { _: ae.message });
    }
  }
  return (
    <form class="editor" onSubmit={save} aria-labelledby="pw" noValidate>
      <h2 id="pw">Password</h2>
      <TextField label="Current password" name="current" type="password" autoComplete="current-password" value={current} onInput={setCurrent} error={errors.current} />
      <TextField label="New password" name="new" type="password" autoComplete="new-password" value={next} onInput={setNext} error={errors.new} hint="at least 8 characters" />
      {errors._ && <p class="notice error" role="alert">{errors._}</p>}
      {ok && <p class="notice ok" role="status">Password changed.</p>}
      <button type="submit">Change password</button>
    </form>
  );
}

function TwoFactor(props: { enabled: boolean }) {
  const [setup, setSetup] = useState<{ secret: string; uri: string } | null>(null);
  const [code, setCode] = useState("");
  const [error, setError] = useState("");
  const [on, setOn] = useState(props.enabled);
  return (
    <section class="editor" aria-labelledby="tf">
      <h2 id="tf">Two-factor sign-in</h2>
      <p>{on ? "On: signing in asks for a code from your authenticator app." : "Off."}</p>
      {!setup && <button onClick={async () => setSetup(await post(ep.totp))}>{on ? "Replace the authenticator" : "Turn on"}</button>}
      {setup && (
        <form onSubmit={async (e) => {
          e.preventDefault();
          try { await post(ep.totpConfirm, { secret: setup.secret, code }); setOn(true); setSetup(null); setError(""); }
          catch (err) { setError((err as ApiError).message); }
        }}>
          <p>Add this key to your authenticator app: <code data-testid="totp-secret">{setup.secret}</code></p>
          <TextField label="Code shown by the app" name="code" autoComplete="one-time-code" value={code} onInput={setCode} error={error} />
          <button type="submit">Confirm</button>
        </form>
      )}
    </section>
  );
}

function ApiKeys(props: { tenant: string }) {
  const keys = useGet<any>(ep.apiKeys(props.tenant));
  const [label, setLabel] = useState("");
  const [scopes, setScopes] = useState("stats.read, cdrs.read");
  const [shown, setShown] = useState("");
  const [error, setError] = useState<Record<string, string>>({});
  return (
    <section class="editor" aria-labelledby="keys">
      <h2 id="keys">API keys for integrations</h2>
      <Status state={keys} what="API key management">
        {(d) => (
          <>
            <Table columns={[["label", "Label"], ["scopes", "Scopes"], ["created_at", "Created"], ["revoked_at", "Revoked"]]} rows={d.items ?? d.keys ?? []} empty="No keys." />
            {(d.items ?? d.keys ?? []).filter((k: any) => !k.revoked_at).map((k: any) => (
              <button class="link danger" onClick={() => del(`${ep.apiKeys(props.tenant)}/${k.id}`).then(keys.reload)}>Revoke {k.label || k.id}</button>))}
            <form onSubmit={async (e) => {
              e.preventDefault();
              try {
                const r = await post<any>(ep.apiKeys(props.tenant), { label, scopes: scopes.split(",").map((s) => s.trim()).filter(Boolean) });
                setShown(r.key ?? r.secret ?? ""); setError({}); keys.reload();
              } catch (err) { const ae = err as ApiError; setError(Object.keys(ae.fields).length ? ae.fields : { _: ae.message }); }
            }}>
              <TextField label="Label" name="key-label" value={label} onInput={setLabel} error={error.label} />
              <TextField label="Scopes (comma-separated, e.g. stats.read, config.read)" name="scopes" value={scopes} onInput={setScopes} error={error.scopes} />
              {error._ && <p class="notice error" role="alert">{error._}</p>}
              <button type="submit">Create key</button>
            </form>
            {shown && <p class="notice ok" role="status">Copy it now, it is shown once: <code>{shown}</code></p>}
          </>
        )}
      </Status>
    </section>
  );
}

/** Company settings (name, language, timezone, hold music) with the form built from the API's schema. */
function Company(props: { tenant: string }) {
  const path = `${tenantPath(props.tenant)}/settings`;
  const current = useGet<any>(path);
  const spec = useGet<any>(ep.openapi);
  const schema = spec.data?.paths?.["/api/v1/tenants/{tenant}/settings"]?.patch?.requestBody?.content?.["application/json"]?.schema;
  const [value, setValue] = useState<Record<string, any> | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [ok, setOk] = useState(false);
  const shown = value ?? current.data ?? {};
  return (
    <section class="editor" aria-labelledby="company">
      <h2 id="company">Company</h2>
      <Status state={current} what="Company settings">
        {() => (
          <form noValidate onSubmit={async (e) => {
            e.preventDefault();
            try { await patch(path, shown); setErrors({}); setOk(true); current.reload(); }
            catch (err) { const ae = err as ApiError; setOk(false); setErrors(Object.keys(ae.fields).length ? ae.fields : { _: ae.message }); }
          }}>
            <SchemaForm schema={schema} value={shown} errors={errors} onChange={(v) => { setValue(v); setOk(false); }} />
            {errors._ && <p class="notice error" role="alert">{errors._}</p>}
            {ok && <p class="notice ok" role="status">Saved.</p>}
            <button type="submit">Save</button>
          </form>
        )}
      </Status>
    </section>
  );
}

function Widget(props: { tenant: string }) {
  const snippet = `<script src="${location.origin}/widget/${props.tenant}/embed.js" async></script>`;
  return (
    <section class="editor" aria-labelledby="widget">
      <h2 id="widget">Website callback widget</h2>
      <p>Paste this before <code>&lt;/body&gt;</code> on your website. Visitors leave their number and vpbx calls them
        back from a queue. The site's address must be in <code>widget.allowed_origins</code> (Settings API).</p>
      <pre>{snippet}</pre>
      <button onClick={() => navigator.clipboard?.writeText(snippet)}>Copy</button>
    </section>
  );
}

export function Settings(props: { me: Me }) {
  return (
    <Page title="Settings">
      <p>Signed in as <strong>{props.me.user.email}</strong> ({props.me.user.role}) in tenant <code>{props.me.tenant}</code>.</p>
      <Password />
      <TwoFactor enabled={props.me.user.totp} />
      {can(props.me, "apikeys.manage") && <ApiKeys tenant={props.me.tenant} />}
      {can(props.me, "config.write") && <Company tenant={props.me.tenant} />}
      {can(props.me, "config.write") && <Widget tenant={props.me.tenant} />}
    </Page>
  );
}
