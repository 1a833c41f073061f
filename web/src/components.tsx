import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get } from "./api";

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** GET a path (again every `refreshMs` if given); keeps the last good data while reloading. */
export function useGet<T = any>(path: string | null, refreshMs = 0): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    if (!path) return;
    let alive = true;
    setLoading(true);
    get<T>(path)
      .then((d) => alive && (setData(d), setError(null)))
      .catch((e: ApiError) => alive && setError(e))
      .finally(() => alive && setLoading(false));
    return () => {
      alive = false;
    };
  }, [path, tick]);
  useEffect(() => {
    if (!refreshMs) return;
    const id = setInterval(reload, refreshMs);
    return () => clearInterval(id);
  }, [refreshMs, reload]);
  return { data, error, loading, reload };
}

export function Page(props: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const h = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} · vpbx`;
    h.current?.focus(); // move focus to the new page for keyboard and screen-reader users
  }, [props.title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title" tabIndex={-1} ref={h}>
          {props.title}
        </h1>
        <div class="page-actions">{props.actions}</div>
      </header>
      {props.children}
    </section>
  );
}

/** Honest states: loading, not available on this server, or an error. Renders children when there is data. */
export function Status<T>(props: { state: Loaded<T>; what: string; children: (data: T) => ComponentChildren }) {
  const { data, error, loading } = props.state;
  if (error?.missing)
    return (
      <p class="notice missing" role="status">
        {props.what} is not available on this server yet: the backend has no endpoint for it. Nothing is shown rather
        than made-up data.
      </p>
    );
  if (error?.status === 403 && data === null)
    return (
      <p class="notice" role="status">
        {props.what}: your role may not see this ({error.message}).
      </p>
    );
  if (error && data === null)
    return (
      <p class="notice error" role="alert">
        {error.message}
      </p>
    );
  if (data === null) return <p aria-busy="true">{loading ? "Loading…" : "No data."}</p>;
  return <>{props.children(data)}</>;
}

export function Field(props: {
  label: string;
  name: string;
  error?: string;
  hint?: string;
  children: (id: string, describedBy: string | undefined) => ComponentChildren;
}) {
  const id = `f-${props.name.replace(/[^\w-]/g, "-")}`;
  const errId = props.error ? `${id}-err` : undefined;
  return (
    <div class={"field" + (props.error ? " has-error" : "")}>
      <label for={id}>{props.label}</label>
      {props.children(id, errId)}
      {props.hint && !props.error && <small class="hint">{props.hint}</small>}
      {props.error && (
        <small class="field-error" id={errId} role="alert">
          {props.error}
        </small>
      )}
    </div>
  );
}

export function TextField(props: {
  label: string;
  name: string;
  value: string;
  onInput: (v: string) => void;
  error?: string;
  type?: string;
  autoComplete?: string;
  required?: boolean;
  hint?: string;
}) {
  return (
    <Field label={props.label} name={props.name} error={props.error} hint={props.hint}>
      {(id, describedBy) => (
        <input
          id={id}
          name={props.name}
          type={props.type ?? "text"}
          value={props.value}
          autoComplete={props.autoComplete}
          required={props.required}
          aria-invalid={props.error ? "true" : undefined}
          aria-describedby={describedBy}
          onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
        />
      )}
    </Field>
  );
}

export function Table(props: { columns: [string, string][]; rows: any[]; empty?: string; rowHref?: (r: any) => string }) {
  if (!props.rows.length) return <p class="empty">{props.empty ?? "Nothing here yet."}</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            {props.columns.map(([, label]) => (
              <th scope="col">{label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr>
              {props.columns.map(([key], i) => (
                <td data-label={props.columns[i][1]}>
                  {i === 0 && props.rowHref ? <a href={props.rowHref(r)}>{show(r[key])}</a> : show(r[key])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function show(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.map(show).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function toCsv(columns: string[], rows: any[]): string {
  const cell = (v: unknown) => {
    const s = show(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}

export function download(name: string, text: string, type = "text/csv") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function fmtSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || isNaN(Number(s))) return "–";
  const n = Math.round(Number(s));
  return n >= 60 ? `${Math.floor(n / 60)}m ${n % 60}s` : `${n}s`;
}
