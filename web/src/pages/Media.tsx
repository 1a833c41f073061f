import { useState } from "preact/hooks";
import { del, post, put } from "../api";
import { Page, Status, useGet } from "../components";
import { ep } from "../endpoints";
import { periodQuery, shiftDay, today, useZone } from "../time";

/** Voicemail inbox: the messages not deleted (from the call records, with the mailbox's state). The owner of a
 *  box sees which are new, marks one heard by playing it and may delete it: the same mailbox as *97 on a phone. */
export function Voicemail(props: { tenant: string; all: boolean }) {
  const zone = useZone();
  const [days, setDays] = useState(7);
  const [problem, setProblem] = useState("");
  // people who may read every box see the tenant's messages; everyone else their own box
  const calls = useGet<any>(props.all ? ep.everyVoicemail(`?${periodQuery(zone, days)}`)
    : ep.myVoicemail(`?${periodQuery(zone, days)}`));
  const act = (request: Promise<unknown>) =>
    request.then(() => { setProblem(""); calls.reload(); }, (e: Error) => setProblem(e.message));
  return (
    <Page title="Voicemail" actions={<Period days={days} setDays={setDays} />}>
      {problem && <p class="notice error" role="alert">{problem}</p>}
      <Status state={calls} what="The voicemail inbox">
        {(d) => {
          const mine = new Set<string>(d.boxes ?? []);
          const messages = (d.items ?? []).filter((c: any) => c.voicemail);
          return messages.length ? (
            <ul class="media-list" aria-label="Messages">{messages.map((c: any) => {
              const vm = c.voicemail;
              const own = mine.has(String(vm.box));
              return (
                <li data-testid="voicemail" class={vm.heard ? "heard" : "new"}>
                  <div>{!vm.heard && <strong class="tag" data-testid="new">New</strong>}{" "}
                    <strong>{c.from}</strong> → box {vm.box} · <time>{(c.t ?? "").slice(0, 16).replace("T", " ")}</time> · {vm.duration}s ·{" "}
                    <a href={`#/calls/${encodeURIComponent(c.sid)}`}>call</a>
                    {own && <>{" "}<button type="button" onClick={() => act(del(ep.myMessage(c.sid)))}
                      aria-label={`Delete the message from ${c.from}`}>Delete</button></>}</div>
                  <audio controls preload="metadata" src={vm.url} aria-label={`Voicemail from ${c.from}`}
                    onPlay={() => { if (own && !vm.heard) act(post(ep.myMessageHeard(c.sid))); }} />
                </li>);
            })}</ul>
          ) : <p class="empty">No messages in this period.</p>;
        }}
      </Status>
      {(calls.data?.boxes ?? []).length > 0 && <PinForm />}
    </Page>
  );
}

/** The PIN of one's own box: what the phone's *97 and *98 ask (easy ones are refused, with the reason). */
function PinForm() {
  const [pin, setPin] = useState("");
  const [said, setSaid] = useState<{ ok: boolean; text: string } | null>(null);
  const save = (e: Event) => {
    e.preventDefault();
    put(ep.myVoicemailPin, { pin }).then(() => { setPin(""); setSaid({ ok: true, text: "PIN saved." }); },
      (err: Error) => setSaid({ ok: false, text: err.message }));
  };
  return (
    <form class="card" aria-label="My voicemail PIN" onSubmit={save}>
      <label>My voicemail PIN (4 to 12 digits){" "}
        <input type="password" inputMode="numeric" autoComplete="new-password" value={pin}
          onInput={(e) => setPin((e.target as HTMLInputElement).value)} /></label>{" "}
      <button type="submit">Set PIN</button>
      {said && <p class={said.ok ? "notice" : "notice error"} role="status">{said.text}</p>}
    </form>
  );
}

/** Call recordings (voicemail included), playable in the page. */
export function Recordings(props: { tenant: string; all: boolean }) {
  const zone = useZone();
  const [days, setDays] = useState(7);
  // everyone with recordings.read sees all; a supervisor sees the team's (the server decides)
  const calls = useGet<any>(props.all ? ep.cdrs(props.tenant, `?${periodQuery(zone, days)}`) : ep.myRecordings(`?${periodQuery(zone, days)}`));
  return (
    <Page title="Recordings" actions={<Period days={days} setDays={setDays} />}>
      <Status state={calls} what="Call recordings">
        {(d) => {
          const recorded = (d.cdrs ?? d.items ?? []).filter((c: any) => (c.recordings ?? []).length);
          return recorded.length ? (
            <ul class="media-list">{recorded.map((c: any) => (
              <li><div><a href={`#/calls/${encodeURIComponent(c.sid)}`}>{c.sid}</a> · {c.from} → {c.to} · <time>{(c.t ?? "").slice(0, 16).replace("T", " ")}</time></div>
                {c.recordings.map((url: string, i: number) => <audio controls preload="none" src={url} aria-label={`Recording ${i + 1} of ${c.sid}`} />)}</li>))}</ul>
          ) : <p class="empty">No recordings in this period.</p>;
        }}
      </Status>
    </Page>
  );
}

function Period(props: { days: number; setDays: (d: number) => void; all?: boolean }) {
  return (
    <label>Period{" "}
      <select value={props.days} onChange={(e) => props.setDays(Number((e.target as HTMLSelectElement).value))}>
        <option value={1}>Today</option><option value={7}>7 days</option><option value={30}>30 days</option>
        {props.all && <option value={0}>All</option>}
      </select>
    </label>
  );
}

/** Received faxes (`GET /tenants/{t}/faxes`, newest first): who sent it, pages, line quality, the PDF and page images. */
export function Faxes(props: { tenant: string }) {
  const [days, setDays] = useState(30);
  const since = shiftDay(today(useZone()), 1 - days);
  const faxes = useGet<any>(ep.faxes(props.tenant) + (days ? `?from=${since}` : ""));
  return (
    <Page title="Received faxes" actions={<Period days={days} setDays={setDays} all />}>
      <Status state={faxes} what="The received-fax inbox">
        {(d) => (d.items ?? []).length ? (
          <ul class="media-list" aria-label="Faxes">{d.items.map((f: any) => (
            <li data-testid="fax">
              <div><strong>{f.from || "unknown caller"}</strong>{f.sender_id && <> (fax id {f.sender_id})</>} → {f.to} ·{" "}
                <time>{(f.received_at ?? "").slice(0, 16).replace("T", " ")}</time> · {f.pages} page{f.pages === 1 ? "" : "s"}
                {f.bad_lines ? ` · ${f.bad_lines} bad lines` : ""}{f.completed === false ? " · incomplete" : ""} ·{" "}
                <a href={`#/calls/${encodeURIComponent(f.call_sid)}`}>call</a></div>
              <div>{f.pdf_url && <a href={f.pdf_url} target="_blank" rel="noopener">PDF</a>}
                {(f.page_urls ?? []).map((u: string, i: number) => <>{" · "}<a href={u} target="_blank" rel="noopener">page {i + 1}</a></>)}</div>
            </li>))}</ul>
        ) : <p class="empty">No faxes in this period.</p>}
      </Status>
    </Page>
  );
}
