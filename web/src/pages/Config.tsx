import { useEffect, useState } from "preact/hooks";
import { ApiError, del, patch, post } from "../api";
import { Page, show, Status, TextField, useGet } from "../components";
import { ep } from "../endpoints";
import { SchemaForm } from "../schemaform";

export const COLLECTIONS = [
  { name: "numbers", title: "Numbers", columns: ["id", "label", "plan"] },
  { name: "extensions", title: "Extensions", columns: ["id", "name", "voicemail"] },
  { name: "groups", title: "Ring groups", columns: ["id", "name", "members", "strategy"] },
  { name: "queues", title: "Queues", columns: ["id", "name", "strategy", "members"] },
  { name: "schedules", title: "Schedules & holidays", columns: ["id", "name", "timezone"] },
  { name: "voicemail-boxes", title: "Voicemail boxes", columns: ["id", "email", "greeting"] },
  { name: "conference-rooms", title: "Conference rooms", columns: ["id", "name"] },
];

/** The request schema of `POST path` from the server's OpenAPI document, if it publishes one. */
export function useCreateSchema(path: string): any {
  const doc = useGet<any>(ep.openapi);
  const templ = path.replace(/\/tenants\/[^/]+\//, "/tenants/{tenant}/");
  const op = doc.data?.paths?.[templ]?.post;
  return op?.requestBody?.content?.["application/json"]?.schema ?? null;
}

/** A new item starts with the defaults the schema documents (e.g. a queue's ring time), so the form shows them. */
function defaults(schema: any): Record<string, any> {
  return Object.fromEntries(Object.entries(schema?.properties ?? {}).filter(([, s]: [string, any]) => s?.default !== undefined)
    .map(([k, s]: [string, any]) => [k, s.default]));
}

/** List, create, edit and delete items of one configuration collection. Nothing typed is lost on a failed save. */
export function CollectionPage(props: { tenant: string; name: string; canWrite: boolean }) {
  const meta = COLLECTIONS.find((c) => c.name === props.name) ?? { name: props.name, title: props.name, columns: ["id"] };
  const path = ep.collection(props.tenant, props.name);
  const list = useGet<any>(path);
  const schema = useCreateSchema(path);
  const [editing, setEditing] = useState<{ id: string; value: Record<string, any>; isNew: boolean } | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState("");
  // "Add" may be pressed before the schema has loaded: its defaults fill the new item when it arrives
  // (what was typed meanwhile is kept)
  useEffect(() => {
    if (!schema || !editing?.isNew) return;
    const missing = Object.entries(defaults(schema)).filter(([k]) => !(k in editing.value));
    if (missing.length) setEditing({ ...editing, value: { ...Object.fromEntries(missing), ...editing.value } });
  }, [schema, editing?.isNew]);

  async function save(e: Event) {
    e.preventDefault();
    if (!editing) return;
    setSaved("");
    try {
      // send only what the schema lets clients write (presented-only fields such as pin_set stay out)
      const props = schema?.properties;
      const body = props ? Object.fromEntries(Object.entries(editing.value).filter(([k]) => k in props)) : editing.value;
      if (editing.isNew) await post(path, { ...body, id: editing.id });
      else await patch(`${path}/${encodeURIComponent(editing.id)}`, body);
      setErrors({});
      setSaved(`Saved ${editing.id}.`);
      setEditing(null);
      list.reload();
    } catch (err) {
      const ae = err as ApiError;
      setErrors(Object.keys(ae.fields).length ? ae.fields : { _: ae.message }); // the form keeps what was typed
    }
  }

  async function remove(id: string) {
    if (!confirm(`Delete ${id}?`)) return;
    try {
      await del(`${path}/${encodeURIComponent(id)}`);
      list.reload();
    } catch (err) {
      setErrors({ _: (err as ApiError).message });
    }
  }

  return (
    <Page title={meta.title} actions={props.canWrite && <button onClick={() => { setErrors({}); setEditing({ id: "", value: defaults(schema), isNew: true }); }}>Add</button>}>
      {saved && <p class="notice ok" role="status">{saved}</p>}
      {errors._ && !editing && <p class="notice error" role="alert">{errors._}</p>}
      {editing && (
        <form class="editor" onSubmit={save} aria-label={editing.isNew ? "New item" : `Edit ${editing.id}`}>
          {editing.isNew && <TextField label="Id" name="id" value={editing.id} error={errors.id}
            onInput={(v) => setEditing({ ...editing, id: v })} required />}
          <SchemaForm schema={schema} value={editing.value} errors={errors} skip={["id"]}
            onChange={(v) => setEditing({ ...editing, value: v })} />
          {/* errors the fields above do not show: unknown fields, and nested ones such as members/1 */}
          {Object.entries(errors).filter(([k]) => k === "_" || !(k in (schema?.properties ?? {})) && k !== "id").map(([k, m]) => (
            <p class="notice error" role="alert">{k === "_" ? "" : `${k}: `}{m}</p>))}
          <div class="buttons"><button type="submit">Save</button> <button type="button" class="secondary" onClick={() => setEditing(null)}>Cancel</button></div>
        </form>
      )}
      <Status state={list} what={meta.title}>
        {(d) => {
          const items: any[] = d.items ?? [];
          return items.length ? (
            <div class="table-wrap"><table>
              <thead><tr>{meta.columns.map((c) => <th scope="col">{c}</th>)}{props.canWrite && <th scope="col"><span class="sr-only">Actions</span></th>}</tr></thead>
              <tbody>{items.map((it) => (
                <tr>{meta.columns.map((c) => <td data-label={c}>{show(it[c])}</td>)}
                  {props.canWrite && <td><button class="link" onClick={() => { const { id, ...rest } = it; setErrors({}); setEditing({ id, value: rest, isNew: false }); }}>Edit</button>{" "}
                    <button class="link danger" onClick={() => remove(it.id)}>Delete</button></td>}</tr>))}
              </tbody></table></div>
          ) : <p class="empty">None yet.</p>;
        }}
      </Status>
    </Page>
  );
}
