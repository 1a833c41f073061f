import { useState } from "preact/hooks";
import { Page, show, Status, Table, useGet } from "../components";
import { ep } from "../endpoints";
import { localDateTime, localTime, periodQuery, useZone } from "../time";

function filterQuery(q: string, days: number, zone: string): string {
  const p = new URLSearchParams(periodQuery(zone, days));
  const s = q.trim();
  if (/^CA[0-9a-f]{32}$/i.test(s)) p.set("calls", s);
  else if (/^\d{2,6}$/.test(s)) p.set("extension", s);
  else if (s) p.set("number", s);
  return "?" + p.toString();
}

/** Call log with search (number, extension or call id) and CSV export; each call opens its timeline. */
export function CallLog(props: { tenant: string; query?: string }) {
  const zone = useZone();
  const [q, setQ] = useState(new URLSearchParams(props.query ?? "").get("q") ?? "");
  const [days, setDays] = useState(7);
  const [applied, setApplied] = useState(filterQuery(q, 7, zone));
  const cdrs = useGet<any>(ep.cdrs(props.tenant, applied));
  const cols: [string, string][] = [["sid", "Call"], ["t", "Started"], ["from", "From"], ["to", "To"],
    ["kind", "Direction"], ["outcome", "Result"], ["answered", "Answered by"], ["duration", "Seconds"]];
  return (
    <Page title="Call log">
      <form class="search" role="search" onSubmit={(e) => { e.preventDefault(); setApplied(filterQuery(q, days, zone)); }}>
        <label for="call-search">Search by number, extension or call id</label>
        <input id="call-search" type="search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        <select aria-label="Period" value={days} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
          <option value={1}>Today</option><option value={7}>7 days</option><option value={30}>30 days</option>
        </select>
        <button type="submit">Search</button>
      </form>
      <Status state={cdrs} what="The call log">
        {(d) => (
          <>
            <p>{d.count} call(s). <a href={ep.cdrs(props.tenant, applied + "&format=csv")} download>Export CSV</a></p>
            <Table columns={cols} rows={(d.cdrs ?? []).map((c: any) => ({ ...c, t: localDateTime(c.t, zone),
              answered: (c.answered_by ?? []).join(", ") }))}
              rowHref={(r) => `#/calls/${encodeURIComponent(r.sid)}`} empty="No calls match." />
          </>
        )}
      </Status>
    </Page>
  );
}

/** One call: what happened (events) and why (the routing steps: which rule sent it where). */
export function CallTimeline(props: { tenant: string; sid: string }) {
  const doc = useGet<any>(ep.callExplain(props.sid));
  const zone = useZone();
  return (
    <Page title={`Call ${props.sid}`} actions={<a href="#/calls">Back to the call log</a>}>
      <Status state={doc} what="The call timeline">
        {(d) => (
          <>
            <p>{d.from_number} → {d.to_number} · {d.direction} · started <time>{localDateTime(d.started_at, zone)}</time> ({zone}) · plan {d.plan?.id} v{d.plan?.version} · <strong>{d.status}</strong> · {d.outcome}</p>
            <h2>Why it went where it went</h2>
            <ol class="explain">
              {(d.steps ?? []).map((s: any) => (
                <li><time>{localTime(s.at, zone)}</time> <strong>{s.node}</strong> ({s.action})
                  {s.branch && <> → branch <em>{s.branch}</em></>}{s.awaiting && <> · waiting for the caller</>}
                  {Object.keys(s.inputs ?? {}).length > 0 && <code> {show(s.inputs)}</code>}
                  {s.emitted && <div class="muted">{s.emitted}</div>}</li>
              ))}
            </ol>
            <h2>Events</h2>
            <ol class="timeline">
              {(d.events ?? []).map((e: any) => {
                const { at, event, ...rest } = e;
                return <li><time>{localTime(at, zone)}</time> <strong>{event}</strong> <code>{show(rest)}</code></li>;
              })}
            </ol>
          </>
        )}
      </Status>
    </Page>
  );
}
