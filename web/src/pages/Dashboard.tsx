import { fmtSeconds, Page, Status, Table, useGet } from "../components";
import { ep } from "../endpoints";

/** The live view: calls in progress, agents by state, queue sizes and longest wait; refreshes every 2 s. */
export function Dashboard(props: { tenant: string }) {
  const live = useGet<any>(ep.live(props.tenant), 2000);
  return (
    <Page title="Live" actions={<span class="muted" aria-live="polite">{live.loading ? "refreshing…" : "auto-refresh 2 s"}</span>}>
      <Status state={live} what="The live view">
        {(d) => {
          const calls: any[] = d.calls ?? d.active_calls ?? [];
          const agents: any[] = d.agents ?? [];
          const queues: any[] = d.queues ?? [];
          const byState: Record<string, number> = d.agents_by_state ?? {};
          if (!d.agents_by_state) for (const a of agents) byState[a.state ?? a.status] = (byState[a.state ?? a.status] ?? 0) + 1;
          return (
            <>
              <div class="kpis">
                <Kpi label="Calls in progress" value={String(d.calls_in_progress ?? calls.length)} testid="kpi-calls" />
                <Kpi label="Calls today" value={String(d.calls_today ?? "–")} />
                <Kpi label="Waiting in queues" value={String(queues.reduce((n, q) => n + Number(q.size ?? q.waiting ?? 0), 0))} />
                <Kpi label="Longest wait" value={fmtSeconds(Math.max(0, ...queues.map((q) => Number(q.longest_wait ?? 0))))} />
              </div>
              <h2>Calls in progress</h2>
              <Table
                columns={[["call_sid", "Call"], ["from", "From"], ["to", "To"], ["status", "Status"], ["where", "Where"], ["duration", "Duration"]]}
                rows={calls.map((c) => ({ ...c, call_sid: c.call_sid ?? c.sid ?? c.id, where: c.where ?? c.node ?? c.queue ?? "", duration: fmtSeconds(c.duration ?? c.seconds) }))}
                rowHref={(c) => `#/calls/${encodeURIComponent(c.call_sid)}`}
                empty="No calls right now."
              />
              <h2>Agents by state</h2>
              {Object.keys(byState).length ? (
                <ul class="chips">{Object.entries(byState).map(([s, n]) => <li>{s}: <strong>{n}</strong></li>)}</ul>
              ) : <p class="empty">No agents signed in.</p>}
              <h2>Queues</h2>
              <Table columns={[["id", "Queue"], ["size", "Waiting"], ["longest_wait", "Longest wait"], ["agents_available", "Agents free"]]}
                rows={queues.map((q) => ({ ...q, id: q.id ?? q.name, size: q.size ?? q.waiting, longest_wait: fmtSeconds(q.longest_wait) }))}
                empty="No queues." />
            </>
          );
        }}
      </Status>
    </Page>
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
