import { Page, Status, useGet } from "../components";
import { ep } from "../endpoints";

function items(d: any): any[] {
  return d.items ?? d.messages ?? d.recordings ?? d.faxes ?? [];
}

/** Voicemail inbox with a player per message. */
export function Voicemail(props: { tenant: string }) {
  const box = useGet<any>(ep.voicemail(props.tenant));
  return (
    <Page title="Voicemail">
      <Status state={box} what="The voicemail inbox">
        {(d) => items(d).length ? (
          <ul class="media-list">{items(d).map((m: any) => (
            <li><div><strong>{m.from ?? m.caller}</strong> → box {m.box} · <time>{m.received_at ?? m.at}</time> · {m.duration ?? ""}s</div>
              {(m.url ?? m.audio_url) && <audio controls preload="none" src={m.url ?? m.audio_url} aria-label={`Voicemail from ${m.from ?? m.caller}`} />}
              {m.transcript && <p>{m.transcript}</p>}</li>))}</ul>
        ) : <p class="empty">No messages.</p>}
      </Status>
    </Page>
  );
}

/** Call recordings, playable in the page. */
export function Recordings(props: { tenant: string }) {
  const recs = useGet<any>(ep.recordings(props.tenant));
  return (
    <Page title="Recordings">
      <Status state={recs} what="Call recordings">
        {(d) => items(d).length ? (
          <ul class="media-list">{items(d).map((r: any) => (
            <li><div><a href={`#/calls/${encodeURIComponent(r.call_sid)}`}>{r.call_sid}</a> · <time>{r.started_at ?? r.at}</time></div>
              <audio controls preload="none" src={r.url ?? r.audio_url} aria-label={`Recording of ${r.call_sid}`} /></li>))}</ul>
        ) : <p class="empty">No recordings.</p>}
      </Status>
    </Page>
  );
}

/** Received faxes: pages and the PDF. */
export function Faxes(props: { tenant: string }) {
  const faxes = useGet<any>(ep.faxes(props.tenant));
  return (
    <Page title="Received faxes">
      <Status state={faxes} what="Received faxes">
        {(d) => items(d).length ? (
          <ul class="media-list">{items(d).map((f: any) => (
            <li><strong>{f.from}</strong> · {f.pages} page(s) · <time>{f.received_at ?? f.at}</time>{" "}
              {f.pdf_url && <a href={f.pdf_url}>PDF</a>}</li>))}</ul>
        ) : <p class="empty">No faxes.</p>}
      </Status>
    </Page>
  );
}
