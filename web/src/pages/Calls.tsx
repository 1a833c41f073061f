import { useState } from "preact/hooks";
import { download, Page, show, Status, Table, toCsv, useGet } from "../components";
import { ep } from "../endpoints";

/** Call log with search (number, date) and CSV export; each call opens its timeline. */
export function CallLog(props: { tenant: string; query?: string }) {
  const params = new URLSearchParams(props.query ?? "");
  const [q, setQ] = useState(params.get("q") ?? "");
  const [applied, setApplied] = useState(q);
  const cdrs = useGet<any>(ep.cdrs(props.tenant, applied ? `?q=${encodeURIComponent(applied)}` : ""));
  const cols: [string, string][] = [["call_sid", "Call"], ["started_at", "Started"], ["from", "From"], ["to", "To"],
    ["direction", "Direction"], ["disposition", "Result"], ["duration", "Seconds"], ["answered_by", "Answered by"]];
  return (
    <Page title="Call log">
      <form class="search" role="search" onSubmit={(e) => { e.preventDefault(); setApplied(q); }}>
        <label for="call-search">Search by number, extension or call id</label>
        <input id="call-search" type="search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        <button type="submit">Search</button>
      </form>
      <Status state={cdrs} what="The call log">
        {(d) => {
          const rows: any[] = (d.items ?? d.cdrs ?? d.calls ?? []).map((r: any) => ({ ...r, call_sid: r.call_sid ?? r.sid ?? r.id }));
          return (
            <>
              <button onClick={() => download("calls.csv", toCsv(cols.map((c) => c[0]), rows))} disabled={!rows.length}>Export CSV</button>
              <Table columns={cols} rows={rows} rowHref={(r) => `#/calls/${encodeURIComponent(r.call_sid)}`} empty="No calls match." />
            </>
          );
        }}
      </Status>
    </Page>
  );
}

/** One call: its events in order, and the explain trail (which rule sent it where). */
export function CallTimeline(props: { tenant: string; sid: string }) {
  const events = useGet<any>(ep.callEvents(props.tenant, props.sid));
  const explain = useGet<any>(ep.callExplain(props.tenant, props.sid));
  return (
    <Page title={`Call ${props.sid}`} actions={<a href="#/calls">Back to the call log</a>}>
      <h2>Timeline</h2>
      <Status state={events} what="The call timeline">
        {(d) => (
          <ol class="timeline">
            {(d.events ?? d.items ?? []).map((e: any) => (
              <li><time>{e.occurred_at ?? e.at}</time> <strong>{e.event_type ?? e.type}</strong> <code>{show(e.data ?? "")}</code></li>
            ))}
          </ol>
        )}
      </Status>
      <h2>Why it went where it went</h2>
      <Status state={explain} what="The explain view">
        {(d) => (
          <ol class="explain">
            {(d.steps ?? d.trail ?? []).map((s: any) => (
              <li><strong>{s.node ?? s.node_id}</strong> ({s.action}) → <em>{s.branch ?? s.outcome ?? ""}</em>
                {s.reason && <span> — {s.reason}</span>}{s.inputs && <code> {show(s.inputs)}</code>}</li>
            ))}
          </ol>
        )}
      </Status>
    </Page>
  );
}
