import { useEffect, useState } from "preact/hooks";
import { api, ApiError, get, post } from "../api";
import { Field, Page, Status, TextField, useGet } from "../components";
import { ep } from "../endpoints";
import { SchemaForm } from "../schemaform";

type Node = { id?: string; action: string; data: Record<string, any>; children?: Record<string, Node | string> };

/** JSON differences as lines "path: before -> after" (for version history). */
export function jsonDiff(a: any, b: any, path = ""): string[] {
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().flatMap((k) => jsonDiff(a[k], b[k], `${path}/${k}`));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${path || "/"}: ${JSON.stringify(a) ?? "—"} → ${JSON.stringify(b) ?? "—"}`];
}

function Tree(props: { node: Node | string; path: string; selected: string; onSelect: (p: string) => void; errors: Record<string, string> }) {
  if (typeof props.node === "string") return <span class="ref">→ goes to <code>{props.node}</code></span>;
  const n = props.node;
  const bad = Object.keys(props.errors).some((k) => k.startsWith(props.path.replace(/^\//, "")));
  return (
    <div class="node">
      <button type="button" class={"node-btn" + (props.selected === props.path ? " selected" : "") + (bad ? " invalid" : "")}
        aria-pressed={props.selected === props.path} onClick={() => props.onSelect(props.path)}>
        <strong>{n.action}</strong> {n.id && <code>{n.id}</code>}
      </button>
      {n.children && Object.keys(n.children).length > 0 && (
        <ul>{Object.entries(n.children).map(([branch, child]) => (
          <li><span class="branch">{branch === "_" ? "next" : branch}</span>
            <Tree node={child} path={`${props.path}/children/${branch}`} selected={props.selected} onSelect={props.onSelect} errors={props.errors} /></li>))}
        </ul>)}
    </div>
  );
}

function at(doc: any, path: string): any {
  return path.split("/").filter(Boolean).reduce((o, k) => (o == null ? o : o[k]), doc);
}

function setAt(doc: any, path: string, value: any): any {
  const keys = path.split("/").filter(Boolean);
  const copy = structuredClone(doc);
  let o = copy;
  for (const k of keys.slice(0, -1)) o = o[k];
  if (value === undefined) delete o[keys[keys.length - 1]];
  else o[keys[keys.length - 1]] = value;
  return copy;
}

/** The routing plan editor: tree of actions, a form per action from its JSON schema, inline errors,
 *  publish, version history with diff, what-if against last week's calls. */
export function Plans(props: { tenant: string; canWrite: boolean }) {
  const plans = useGet<any>(ep.plans(props.tenant));
  const actions = useGet<any>(ep.actions);
  const [planId, setPlanId] = useState("main");
  const [doc, setDoc] = useState<any>(null);
  const [selected, setSelected] = useState("/root");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [versions, setVersions] = useState<any[] | null>(null);
  const [diff, setDiff] = useState<string[] | null>(null);
  const [whatIf, setWhatIf] = useState<any>(null);
  const [newBranch, setNewBranch] = useState("");
  const [newAction, setNewAction] = useState("");

  useEffect(() => {
    const items: any[] = plans.data?.items ?? [];
    const plan = items.find((p) => p.id === planId) ?? items[0];
    if (!plan) return;
    if (plan.id !== planId) setPlanId(plan.id);
    setDoc(structuredClone(plan.draft ?? plan.document)); // a saved draft wins: nothing typed is lost
    setVersions(plan.versions ?? []);
  }, [plans.data, planId]);

  const schemas: Record<string, any> = actions.data?.actions ?? {};
  const node = doc ? at(doc, selected) : null;
  const fail = (err: unknown) => {
    const ae = err as ApiError;
    setErrors(Object.keys(ae.fields).length ? ae.fields : { _: ae.message });
    setMessage("");
  };
  const problemsToErrors = (problems: any[]) =>
    Object.fromEntries(problems.map((p) => [String(p.pointer || "").replace(/^\//, "") || "_", p.message]));

  async function saveDraft(): Promise<boolean> {
    try {
      const r = await api<any>("PUT", ep.planDraft(props.tenant, planId), doc);
      const problems: any[] = r.problems ?? [];
      setErrors(problemsToErrors(problems));
      setMessage(problems.length ? `Draft saved with ${problems.length} problem(s) to fix before publishing.` : "Draft saved; no problems found.");
      return problems.length === 0;
    } catch (e) { fail(e); return false; }
  }
  async function publish() {
    if (!(await saveDraft())) return;
    try {
      const r = await post<any>(ep.planPublish(props.tenant, planId));
      setErrors({});
      setMessage(`Published version ${r.version}.`);
      setVersions(r.versions ?? versions);
    } catch (e) { fail(e); }
  }
  async function runWhatIf() {
    try { setWhatIf(await post<any>(ep.planWhatIf(props.tenant, planId), { document: doc, days: 7 })); }
    catch (e) {
      if ((e as ApiError).missing) setWhatIf({ note: "What-if has no HTTP endpoint on this server yet; run `vpbx whatif` on the server." });
      else fail(e);
    }
  }
  async function showDiff(v: number) {
    try {
      const old = await get<any>(ep.planVersion(props.tenant, planId, v));
      setDiff(jsonDiff(old.document, doc));
    } catch (e) { fail(e); }
  }
  function addChild() {
    if (!node || typeof node !== "object" || !newBranch || !newAction) return;
    const children = { ...(node.children ?? {}), [newBranch]: { action: newAction, data: {}, children: {} } };
    setDoc(setAt(doc, `${selected}/children`, children));
    setSelected(`${selected}/children/${newBranch}`);
    setNewBranch("");
  }

  return (
    <Page title="Routing plan" actions={props.canWrite && doc && <>
      <button onClick={saveDraft}>Save draft</button> <button onClick={publish}>Publish</button> <button class="secondary" onClick={runWhatIf}>What if (last 7 days)</button></>}>
      <Status state={plans} what="The routing plan API">
        {(d) => (
          <Field label="Plan" name="plan">{(id) => (
            <select id={id} value={planId} onChange={(e) => setPlanId((e.target as HTMLSelectElement).value)}>
              {(d.items ?? []).map((p: any) => <option value={p.id}>{p.id}{p.version ? ` (v${p.version})` : " (draft)"}</option>)}
            </select>)}</Field>
        )}
      </Status>
      {message && <p class={"notice" + (Object.keys(errors).length ? "" : " ok")} role="status">{message}</p>}
      {errors._ && <p class="notice error" role="alert">{errors._}</p>}
      {doc?.root && (
        <div class="plan-editor">
          <div class="tree" aria-label="Plan tree"><Tree node={doc.root} path="/root" selected={selected} onSelect={setSelected} errors={errors} /></div>
          {node && typeof node === "object" && (
            <form class="node-form" onSubmit={(e) => e.preventDefault()} aria-label={`Action ${node.action}`}>
              <h2>{node.action} {node.id && <code>{node.id}</code>}</h2>
              <TextField label="Node id" name="node-id" value={node.id ?? ""} error={errors[`${selected.slice(1)}/id`]}
                onInput={(v) => setDoc(setAt(doc, `${selected}/id`, v || undefined))} />
              <SchemaForm schema={schemas[node.action]} value={node.data ?? {}} prefix={`${selected}/data`}
                errors={errors} onChange={(v) => setDoc(setAt(doc, `${selected}/data`, v))} />
              {props.canWrite && <fieldset class="add-child"><legend>Add a step after this one</legend>
                <TextField label="Branch (e.g. 1, _, timeout)" name="branch" value={newBranch} onInput={setNewBranch} />
                <Field label="Action" name="new-action">{(id) => (
                  <select id={id} value={newAction} onChange={(e) => setNewAction((e.target as HTMLSelectElement).value)}>
                    <option value="">—</option>{Object.keys(schemas).sort().map((a) => <option value={a}>{a}</option>)}
                  </select>)}</Field>
                <button type="button" onClick={addChild} disabled={!newBranch || !newAction}>Add step</button>
                {selected !== "/root" && <button type="button" class="link danger" onClick={() => { setDoc(setAt(doc, selected, undefined)); setSelected("/root"); }}>Remove this step</button>}
              </fieldset>}
            </form>
          )}
        </div>
      )}
      {actions.error?.missing && <p class="notice missing">The action catalogue (JSON schemas) is not available on this server yet; action settings are edited as JSON.</p>}
      <h2>Version history</h2>
      {versions === null ? <p class="notice missing">Version history is not available on this server yet.</p> : (
        <ul>{versions.map((v: any) => <li>version {v} <button class="link" onClick={() => showDiff(v)}>diff against the editor</button></li>)}</ul>)}
      {diff && <pre class="diff" aria-label="Differences">{diff.length ? diff.join("\n") : "No differences."}</pre>}
      {whatIf && <><h2>What if</h2>{whatIf.note ? <p class="notice missing">{whatIf.note}</p> : <pre class="diff">{JSON.stringify(whatIf, null, 2)}</pre>}</>}
    </Page>
  );
}
