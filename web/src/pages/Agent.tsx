import { useState } from "preact/hooks";
import { ApiError, post } from "../api";
import { Page, Status, Table, TextField, useGet } from "../components";
import { ep } from "../endpoints";
import type { Me } from "../session";
import { localDateTime, periodQuery } from "../time";

const ACTIONS: [string, string][] = [["login", "Log in"], ["pause", "Pause"], ["unpause", "Resume"],
  ["dnd_on", "Do not disturb"], ["dnd_off", "End do not disturb"], ["logout", "Log out"]];

/** An agent's own desk: presence (log in, pause, DND), click-to-call, my calls. */
export function AgentView(props: { me: Me }) {
  const t = props.me.tenant;
  const ext = props.me.user.extension;
  const presence = useGet<any>(ext ? ep.presence(t, ext) : null, 5000);
  const calls = useGet<any>(ext ? ep.myCalls(`?${periodQuery(props.me.timezone || "UTC", 7)}`) : null);
  const [number, setNumber] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [note, setNote] = useState("");

  if (!ext)
    return (
      <Page title="My desk">
        <p class="notice">Your account has no extension, so there is no agent desk for it. An owner can set one under Users.</p>
      </Page>
    );

  async function act(action: string) {
    try {
      const r = await post<any>(ep.presence(t, ext), { action });
      setNote(`You are now ${r.presence}.`);
      presence.reload();
    } catch (err) { setNote((err as ApiError).message); }
  }
  async function dial(e: Event) {
    e.preventDefault();
    try {
      await post(ep.clickToCall(t), { agent: ext, to: number });
      setErrors({}); setNote(`Calling ${number}: your phone rings first.`);
    } catch (err) {
      const ae = err as ApiError;
      setErrors({ to: ae.fields.to ?? ae.fields.agent ?? ae.message }); // the number stays in the field
    }
  }

  return (
    <Page title="My desk">
      {note && <p class="notice" role="status" data-testid="agent-note">{note}</p>}
      <section aria-labelledby="st"><h2 id="st">My status (extension {ext})</h2>
        <Status state={presence} what="Agent presence">
          {(d) => (
            <>
              <p>Now: <strong data-testid="my-status">{d.presence}</strong>{d.pause_reason && ` (${d.pause_reason})`}{d.call && <> · on call <a href={`#/calls/${d.call}`}>{d.call}</a></>}</p>
              <div class="buttons" role="group" aria-label="Set my status">
                {ACTIONS.map(([a, label]) => <button type="button" onClick={() => act(a)}>{label}</button>)}
              </div>
            </>
          )}
        </Status>
      </section>
      <form class="editor" onSubmit={dial} aria-labelledby="c2c" noValidate>
        <h2 id="c2c">Click to call</h2>
        <TextField label="Number to call" name="to" type="tel" value={number} onInput={setNumber} error={errors.to} hint="e.g. +15550002000" />
        <button type="submit">Call</button>
      </form>
      <section aria-labelledby="mc"><h2 id="mc">My calls (last 7 days)</h2>
        <Status state={calls} what="My calls">
          {(d) => <Table columns={[["sid", "Call"], ["t", "Started"], ["from", "From"], ["to", "To"], ["outcome", "Result"]]}
            rows={(d.items ?? []).map((c: any) => ({ ...c, t: localDateTime(c.t, props.me.timezone || "UTC").slice(0, 16) }))} rowHref={(r) => `#/calls/${encodeURIComponent(r.sid)}`} empty="No calls yet." />}
        </Status>
      </section>
    </Page>
  );
}
