import { useState } from "preact/hooks";
import { ApiError, post } from "../api";
import { fmtSeconds, Page, Status, Table, useGet } from "../components";
import { ep } from "../endpoints";
import { can, useSession } from "../session";

/** Listen, whisper or barge into an agent's call, from the supervisor's own extension. */
function Supervise(props: { tenant: string; talking: any[] }) {
  const { me } = useSession();
  const [note, setNote] = useState("");
  if (!can(me, "calls.listen") || !props.talking.length) return null;
  const ext = me?.user.extension;
  async function go(agent: string, mode: string) {
    try {
      await post(`${ep.live(props.tenant).replace(/\/live$/, "")}/supervision`, { supervisor: ext, agent, mode });
      setNote(`${mode}: your phone (${ext}) rings and joins ${agent}'s call.`);
    } catch (err) { setNote((err as ApiError).message); }
  }
  return (
    <section aria-labelledby="sup">
      <h2 id="sup">Agents on calls</h2>
      {!ext && <p class="notice">Give your account an extension (Users) to listen, whisper or barge from your phone.</p>}
      {note && <p class="notice" role="status">{note}</p>}
      <ul class="media-list">{props.talking.map((t) => (
        <li><strong>{t.agent}</strong> with {t.with || "a caller"}{t.queue && ` (queue ${t.queue})`}{" "}
          {ext && ["listen", "whisper", "barge"].map((m) => <button type="button" class="secondary" onClick={() => go(t.agent, m)}>{m}</button>)}</li>))}
      </ul>
    </section>
  );
}

function since(iso: string, now: string): number {
  return (Date.parse(now) - Date.parse(iso)) / 1000;
}

/** The live view: calls in progress, agents by state, queue sizes; refreshes every 2 s. */
export function Dashboard(props: { tenant: string }) {
  const live = useGet<any>(ep.live(props.tenant), 2000);
  return (
    <Page title="Live" actions={<span class="muted" aria-live="polite">{live.loading ? "refreshing…" : "auto-refresh 2 s"}</span>}>
      <Status state={live} what="The live view">
        {(d) => {
          const now = d.now ?? new Date().toISOString();
          const calls: any[] = (d.calls ?? []).filter((c: any) => !c.ended);
          const agents: Record<string, string> = d.agents ?? {};
          const byState: Record<string, number> = {};
          for (const s of Object.values(agents)) byState[s] = (byState[s] ?? 0) + 1;
          const queues = Object.entries(d.queues ?? {}).map(([id, q]: [string, any]) => ({ id, ...q }));
          const talking: any[] = d.talking ?? [];
          return (
            <>
              <div class="kpis">
                <Kpi label="Calls in progress" value={String(calls.length)} testid="kpi-calls" />
                <Kpi label="People talking" value={String(talking.length)} />
                <Kpi label="Waiting in queues" value={String(queues.reduce((n, q) => n + Number(q.waiting ?? 0), 0))} />
                <Kpi label="Callbacks waiting" value={String(queues.reduce((n, q) => n + Number(q.callbacks_waiting ?? 0), 0))} />
              </div>
              <h2>Calls in progress</h2>
              <Table
                columns={[["sid", "Call"], ["from", "From"], ["to", "To"], ["status", "Status"], ["ringing", "Ringing"], ["agent", "Agent"], ["age", "For"]]}
                rows={calls.map((c) => ({ ...c, agent: talking.find((t) => t.call === c.sid)?.agent ?? "", age: fmtSeconds(since(c.started_at, now)) }))}
                rowHref={(c) => `#/calls/${encodeURIComponent(c.sid)}`}
                empty="No calls right now."
              />
              {/* supervision joins the call center's conference: queue calls only */}
              <Supervise tenant={props.tenant} talking={talking.filter((t) => t.queue)} />
              <h2>Agents by state</h2>
              {Object.keys(byState).length ? (
                <ul class="chips">{Object.entries(byState).map(([s, n]) => <li>{s}: <strong>{n}</strong></li>)}</ul>
              ) : <p class="empty">No agents signed in.</p>}
              <h2>Queues</h2>
              {queues.length ? (
                <div class="table-wrap"><table>
                  <thead><tr><th scope="col">Queue</th><th scope="col">Waiting</th><th scope="col">Callbacks</th><th scope="col">Longest wait</th><th scope="col">Agents free</th></tr></thead>
                  <tbody>{queues.map((q) => <QueueRow tenant={props.tenant} q={q} />)}</tbody>
                </table></div>
              ) : <p class="empty">No queue activity.</p>}
            </>
          );
        }}
      </Status>
    </Page>
  );
}

/** One queue: sizes from the live feed, longest wait and free agents from the queue's own live view. */
function QueueRow(props: { tenant: string; q: any }) {
  const detail = useGet<any>(`${ep.live(props.tenant).replace(/\/live$/, "")}/queues/${encodeURIComponent(props.q.id)}/live`, 2000);
  const waits: number[] = (detail.data?.waiting ?? []).map((w: any) => Number(w.waited ?? 0));
  const free = (detail.data?.agents ?? []).filter((a: any) => a.presence === "available").length;
  return (
    <tr>
      <td data-label="Queue">{props.q.id}</td>
      <td data-label="Waiting">{props.q.waiting}</td>
      <td data-label="Callbacks">{props.q.callbacks_waiting}</td>
      <td data-label="Longest wait">{detail.data ? fmtSeconds(waits.length ? Math.max(...waits) : 0) : "–"}</td>
      <td data-label="Agents free">{detail.data ? free : "–"}</td>
    </tr>
  );
}

function Kpi(props: { label: string; value: string; testid?: string }) {
  return (
    <div class="kpi" data-testid={props.testid}>
      <span class="kpi-value">{props.value}</span>
      <span class="kpi-label">{props.label}</span>
    </div>
  );
}
