import { Field } from "./components";

/** A form built from a JSON schema (the API's own schemas): one labelled control per property,
 *  the error for a field next to it; anything the form cannot express is edited as JSON. */
export function SchemaForm(props: {
  schema: any;
  value: Record<string, any>;
  onChange: (v: Record<string, any>) => void;
  errors: Record<string, string>;
  prefix?: string;
  skip?: string[];
}) {
  const properties: Record<string, any> = props.schema?.properties ?? {};
  const required: string[] = props.schema?.required ?? [];
  const prefix = props.prefix ?? "";
  const keys = Object.keys(properties).filter((k) => !(props.skip ?? []).includes(k));
  if (!keys.length) return <JsonField label="Settings" name={prefix || "json"} value={props.value} onChange={props.onChange} error={props.errors[prefix.replace(/^\//, "")] ?? props.errors._} />;
  const set = (k: string, v: any) => {
    const next = { ...props.value };
    if (v === undefined || v === "") delete next[k];
    else next[k] = v;
    props.onChange(next);
  };
  return (
    <>
      {keys.map((k) => {
        const s = properties[k] ?? {};
        const pointer = `${prefix}/${k}`.replace(/^\//, "");
        const error = props.errors[pointer];
        const label = (s.title ?? k.replace(/_/g, " ")) + (required.includes(k) ? " *" : "");
        const v = props.value[k];
        const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== "null") : s.type;
        if (s.enum)
          return (
            <Field label={label} name={pointer} error={error} hint={s.description}>
              {(id, d) => (
                <select id={id} aria-describedby={d} aria-invalid={error ? "true" : undefined} value={v ?? ""}
                  onChange={(e) => set(k, (e.target as HTMLSelectElement).value || undefined)}>
                  <option value="">—</option>
                  {s.enum.map((o: any) => <option value={o}>{String(o)}</option>)}
                </select>
              )}
            </Field>
          );
        if (type === "boolean")
          return (
            <div class={"field check" + (error ? " has-error" : "")}>
              <input type="checkbox" id={`f-${pointer}`} checked={!!v} onChange={(e) => set(k, (e.target as HTMLInputElement).checked)} />
              <label for={`f-${pointer}`}>{label}</label>
              {error && <small class="field-error" role="alert">{error}</small>}
            </div>
          );
        if (type === "integer" || type === "number" || type === "string")
          return (
            <Field label={label} name={pointer} error={error} hint={s.description}>
              {(id, d) => (
                <input id={id} aria-describedby={d} aria-invalid={error ? "true" : undefined}
                  type={type === "string" ? "text" : "number"} value={v ?? ""}
                  onInput={(e) => {
                    const raw = (e.target as HTMLInputElement).value;
                    set(k, type === "string" ? raw : raw === "" ? undefined : Number(raw));
                  }} />
              )}
            </Field>
          );
        if (type === "array" && ["string", "integer"].includes(s.items?.type))
          return (
            <Field label={label + " (comma-separated)"} name={pointer} error={error} hint={s.description}>
              {(id, d) => (
                <input id={id} aria-describedby={d} aria-invalid={error ? "true" : undefined}
                  value={Array.isArray(v) ? v.join(", ") : v ?? ""}
                  onInput={(e) => {
                    const raw = (e.target as HTMLInputElement).value;
                    const items = raw.split(",").map((x) => x.trim()).filter(Boolean);
                    set(k, raw.trim() ? (s.items.type === "integer" ? items.map(Number) : items) : undefined);
                  }} />
              )}
            </Field>
          );
        return <JsonField label={label} name={pointer} value={v} error={error} onChange={(x) => set(k, x)} />;
      })}
    </>
  );
}

function JsonField(props: { label: string; name: string; value: any; error?: string; onChange: (v: any) => void }) {
  return (
    <Field label={props.label + " (JSON)"} name={props.name} error={props.error}>
      {(id, d) => (
        <textarea id={id} aria-describedby={d} rows={4} aria-invalid={props.error ? "true" : undefined}
          defaultValue={props.value === undefined ? "" : JSON.stringify(props.value, null, 2)}
          onInput={(e) => {
            const raw = (e.target as HTMLTextAreaElement).value;
            try {
              props.onChange(raw.trim() ? JSON.parse(raw) : undefined);
              (e.target as HTMLTextAreaElement).setCustomValidity("");
            } catch {
              (e.target as HTMLTextAreaElement).setCustomValidity("not valid JSON yet");
            }
          }} />
      )}
    </Field>
  );
}
