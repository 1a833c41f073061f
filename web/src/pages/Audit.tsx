import { Page, Status, useGet } from "../components";
import { ep } from "../endpoints";

/** Every configuration change: who, when, what changed (before -> after). */
export function Audit() {
  const trail = useGet<any>(ep.audit);
  return (
    <Page title="Configuration changes">
      <Status state={trail} what="The audit trail">
        {(d) => (
          <ol class="audit">
            {d.entries.map((e: any) => (
              <li>
                <div><time>{e.at}</time> · <strong>{e.actor || "system"}</strong> · {e.summary}</div>
                {e.changes.length > 0 && (
                  <details><summary>{e.changes.length} change{e.changes.length > 1 ? "s" : ""}</summary>
                    <table><thead><tr><th scope="col">Where</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
                      <tbody>{e.changes.map((c: any) => (
                        <tr><td><code>{c.path}</code></td><td class="before">{JSON.stringify(c.before) ?? "—"}</td><td class="after">{JSON.stringify(c.after) ?? "—"}</td></tr>))}
                      </tbody></table></details>)}
              </li>))}
          </ol>
        )}
      </Status>
    </Page>
  );
}
