import { useState } from "preact/hooks";
import { ApiError, post } from "../api";
import { Page, Status, Table, TextField, useGet } from "../components";
import { ep } from "../endpoints";
import type { Me } from "../session";

const STATES = ["available", "busy", "break", "offline"];

/** An agent's own desk: set status, my calls, click-to-call. */
export function AgentView(props: { me: Me }) {
  const t = props.me.tenant;
  const agentId = props.me.user.extension || props.me.user.id;
  const agents = useGet<any>(ep.agents(t), 5000);
  const calls = useGet<any>(ep.cdrs(t, `?extension=${encodeURIComponent(props.me.user.extension)}`));
  const [status, setStatus] = useState("");
  const [number, setNumber] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [note, setNote] = useState("");
  const mine = (agents.data?.items ?? agents.data?.agents ?? []).find((a: any) => (a.id ?? a.agent_id) === agentId);

  async function setState(s: string) {
    try {
      await post(ep.agentStatus(t, agentId), { status: s, state: s });
      setStatus(s); setNote(`You are now ${s}.`); agents.reload();
    } catch (err) { setNote((err as ApiError).message); }
  }
  async function dial(e: Event) {
    e.preventDefault();
    try {
      await post(ep.clickToCall(t), { to: number, from_extension: props.me.user.extension });
      setErrors({}); setNote(`Calling ${number}: your phone rings first.`);
    } catch (err) {
      const ae = err as ApiError;
      setErrors(Object.keys(ae.fields).length ? { to: Object.values(ae.fields).join("; ") } : { to: ae.message });
    }
  }

  return (
    <Page title="My desk">
      {note && <p class="notice" role="status" data-testid="agent-note">{note}</p>}
      <section aria-labelledby="st"><h2 id="st">My status</h2>
        <Status state={agents} what="Agent status">
          {() => (
            <>
              <p>Now: <strong data-testid="my-status">{status || mine?.state || mine?.status || "unknown"}</strong></p>
              <div class="buttons" role="group" aria-label="Set my status">
                {STATES.map((s) => <button type="button" aria-pressed={(status || mine?.state) === s} onClick={() => setState(s)}>{s}</button>)}
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
      <section aria-labelledby="mc"><h2 id="mc">My calls</h2>
        <Status state={calls} what="My calls">
          {(d) => <Table columns={[["call_sid", "Call"], ["started_at", "Started"], ["from", "From"], ["to", "To"], ["disposition", "Result"]]}
            rows={d.items ?? d.cdrs ?? []} empty="No calls yet." />}
        </Status>
      </section>
    </Page>
  );
}
